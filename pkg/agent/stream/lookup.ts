// How the stream server finds a container: the agent (its pod workers) knows which pods run here,
// each container's current runtime id and where its log files are.

export interface ContainerRef {
  namespace: string;
  /** The pod's name. */
  name: string;
  /** "" when the caller does not pin the pod's uid. */
  uid: string;
  container: string;
}

export interface ContainerLocation {
  /** <podsDir>/<namespace>_<name>_<uid>/<container>: holds <attempt>.log per attempt. */
  logDir: string;
  /** The runtime id of the container's current attempt; absent when none is running or created. */
  containerId?: string;
}

/** undefined: no such pod (with that uid, if given) or container on this node. */
export type ContainerLookup = (ref: ContainerRef) => Promise<ContainerLocation | undefined> | ContainerLocation | undefined;
