#!/bin/sh
# Makes the class archive for bin/vmrunner in target/ (an AOT cache with java 25 and newer, a
# CDS archive before): see scripts/train-archive.sh. Run by 'mvn package'; harmless to skip.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/scripts/train-archive.sh" "$top/target" "$top/target/vmrunner.jar:$top/target/lib/*"
