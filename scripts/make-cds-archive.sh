#!/bin/sh
# Makes the class archive for bin/vmrunner in target/ (an AOT cache with java 25 and newer, a
# CDS archive before; see scripts/train-archive.sh). Run by 'mvn package', after which the
# archives of older jars are stale: both kinds are removed first. Harmless to skip. For a
# second java on the same host, add its archive with
#   JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 scripts/train-archive.sh target "$PWD/target/vmrunner.jar:$PWD/target/lib/*"
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rm -f "$top"/target/vmrunner.aot "$top"/target/vmrunner.aot.stamp \
    "$top"/target/vmrunner.jsa "$top"/target/vmrunner.jsa.stamp
exec "$top/scripts/train-archive.sh" "$top/target" "$top/target/vmrunner.jar:$top/target/lib/*"
