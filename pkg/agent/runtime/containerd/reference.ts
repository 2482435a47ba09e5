// Image names as Docker and containerd normalise them: "busybox" is docker.io/library/busybox:latest.

const REF = /^(?:([a-zA-Z0-9.-]+(?::[0-9]+)?)\/)?([a-z0-9]+(?:[._-][a-z0-9]+|__)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

/** The full name of an image reference; throws naming the reference when it is not one. */
export function normaliseRef(ref: string): string {
  const m = REF.exec(ref);
  if (!m) throw new Error(`Invalid image reference "${ref}"`);
  let host: string | undefined = m[1];
  let path = m[2]!;
  const tag = m[3] ?? (m[4] ? undefined : 'latest');
  const digest = m[4];
  // A first component without a dot or port (and not localhost) is a Docker Hub path, not a host.
  if (host !== undefined && !host.includes('.') && !host.includes(':') && host !== 'localhost') {
    path = `${host}/${path}`;
    host = undefined;
  }
  if (host === undefined) {
    host = 'docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  return `${host}/${path}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}
