#!/bin/sh
# Makes the class data sharing archive for bin/vmrunner: a training run (render of a full
# configuration) records the classes a start loads. Run by 'mvn package'; harmless to skip.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lib="$top/target"
if [ -n "${JAVA_HOME:-}" ]; then java="$JAVA_HOME/bin/java"; else java=$(command -v java); fi
rm -f "$lib/vmrunner.jsa" "$lib/vmrunner.jsa.stamp"
VMRUNNER_CDS_DUMP="$lib/vmrunner.jsa" "$top/bin/vmrunner" render \
    -c "$top/src/test/resources/golden/full.yaml" --templates-dir /nonexistent >/dev/null
echo "$(readlink -f "$java") $lib/vmrunner.jar:$lib/lib/*" > "$lib/vmrunner.jsa.stamp"
