// Times as the API writes them: RFC 3339 in whole seconds, UTC (metav1.Time's form).

export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
