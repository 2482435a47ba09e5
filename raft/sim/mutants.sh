#!/bin/bash
# Mutation testing for the simulator: copies raft/ to a temporary directory, plants one known bug
# there (the working tree is never touched), runs seeds 1..S in two processes and prints how
# many seeds caught it, and by which checker. A strong simulator catches each in most seeds.
#
#   raft/sim/mutants.sh [S] [mutant...]      (default: 200 seeds, mutants 1-9)
#
#  1 reads without ReadIndex (the driver's readIndex resolves at once)
#  2 SimDisk acknowledges a write before it is durable
#  3 Figure 8: the leader commits by counting replicas of an older term's entry
#  4 the driver sends every member's messages before persisting (votes included)
#  5 a follower appends without checking the term at the append's previous index
#  6 a pre-vote is granted without checking that the candidate's log is up to date
#  7 the KV session table does not deduplicate a retried command
#  8 a leader counts its own entries as stable when handed them, before they are synced
#  9 a follower checks only that the previous index exists, not its term (subtler than 5)
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
S=${1:-200}
shift || true
MUTANTS=${*:-1 2 3 4 5 6 7 8 9}

mutate() { # dir n
  local D=$1 N=$2 f e
  case $N in
    1) f=raft/node/raft_node.ts; e='s/(  readIndex\(\): Promise<void> \{\n)/$1    if (!this.stopped) return Promise.resolve();\n/' ;;
    2) f=raft/sim/sim_disk.ts; e='s/      if \(!sync\) resolve\(\);/      resolve();/' ;;
    3) f=raft/core/log.ts; e='s/if \(maxIndex > this\.committed && this\.term\(maxIndex\) === term\)/if (maxIndex > this.committed \&\& term >= 0)/' ;;
    4) f=raft/node/raft_node.ts; e='s/const sendEarly = this\.rn\.raft\.role === .leader. && !termOrVoteChanged && !rd\.snapshot;/const sendEarly = termOrVoteChanged || true;/' ;;
    5) f=raft/core/log.ts; e='s/    if \(!this\.matchTerm\(index, logTerm\)\) return undefined;\n//' ;;
    6) f=raft/core/raft.ts; e='s/canVote && this\.log\.isUpToDate\(m\.index, m\.logTerm\)/canVote \&\& (m.type === "MsgPreVote" || this.log.isUpToDate(m.index, m.logTerm))/' ;;
    7) f=raft/kv/kv_state_machine.ts; e='s/    if \(s && c\.seq === s\.seq\) return s\.result;\n//' ;;
    8) f=raft/core/raw_node.ts; e='s/(    if \(rd\.entries\.length > 0\) rd\.mustSync = true;\n)/$1    if (rd.entries.length > 0) r.selfStable(rd.entries[rd.entries.length - 1].index, rd.entries[rd.entries.length - 1].term);\n/' ;;
    9) f=raft/core/log.ts; e='s/    if \(!this\.matchTerm\(index, logTerm\)\) return undefined;/    if (index > this.lastIndex()) return undefined;/' ;;
    *) echo "Unknown mutant \"$N\": expected 1 to 9" >&2; return 1 ;;
  esac
  cp "$D/$f" "$D/$f.orig"
  perl -0pi -e "$e" "$D/$f"
  if cmp -s "$D/$f" "$D/$f.orig"; then echo "Mutant $N no longer applies: $f changed; update its pattern in $0" >&2; return 1; fi
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for N in $MUTANTS; do
  W=$TMP/m$N
  mkdir -p "$W"
  cp -r "$ROOT/raft" "$W/raft"
  cp "$ROOT/package.json" "$ROOT/tsconfig.json" "$W/"
  ln -s "$ROOT/node_modules" "$W/node_modules"
  mutate "$W" "$N" || continue
  H=$((S / 2))
  (cd "$W" && npx tsx raft/sim/main.ts --seeds $H --first-seed 1 >out1.txt 2>&1 || true) &
  (cd "$W" && npx tsx raft/sim/main.ts --seeds $((S - H)) --first-seed $((H + 1)) >out2.txt 2>&1 || true) &
  wait
  caught=$(cat "$W/out1.txt" "$W/out2.txt" | grep -cP '^seed \d+ failed:' || true)
  first=$(cat "$W/out1.txt" "$W/out2.txt" | grep -oP '^seed \K\d+(?= failed:)' | head -1 || true)
  by=$(cat "$W/out1.txt" "$W/out2.txt" | grep -oP '^seed \d+ failed: \K[a-z ]+' | sort | uniq -c | sort -rn | awk '{c=$1; $1=""; printf "%s%s %d", (n++ ? ", " : ""), substr($0, 2), c}')
  echo "mutant $N: caught by $caught of $S seeds (first: seed ${first:-none})${by:+; $by}"
done
