// Times as the API writes them: RFC 3339 in whole seconds, UTC (metav1.Time's form).

// Every write stamps the time: the text changes once a second, so the last one is kept.
let memoSecond = NaN;
let memoText = '';

export function formatTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== memoSecond) {
    memoText = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    memoSecond = second;
  }
  return memoText;
}
