#!/bin/sh
# tools/run.sh: the main job. Installs what is missing, builds, then checks
# every shipped pack, runs its tests on the virtual clock and draws its
# diagram (build/diagrams/NAME.{dot,mmd,json}).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tools/deps.sh"
sh "$top/tools/build.sh" build
cd "$top"
mkdir -p build/diagrams
for p in pipelines/*.pipe; do
  name=$(basename "$p" .pipe)
  build/funnel check "$p"
  build/funnel test "$p" | tail -n 1
  build/funnel graph --format dot "$p" > "build/diagrams/$name.dot"
  build/funnel graph --format mermaid "$p" > "build/diagrams/$name.mmd"
  build/funnel graph --format json "$p" > "build/diagrams/$name.json"
  echo "$p: checked, tested; diagrams in build/diagrams/$name.{dot,mmd,json}"
done
