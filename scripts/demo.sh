#!/bin/sh
# The demo: install what is needed, build vmrunner and the small test guest, boot the guest
# under the runner, then stop it the way Kubernetes or systemd would (SIGTERM) and show the
# graceful power-off. Run on Debian 12 or newer, as root or with sudo.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then scripts/install-deps.sh; else sudo scripts/install-deps.sh; fi

echo "== Building vmrunner"
mvn -B -q package -DskipTests
echo "== Building the test guest (cached after the first time)"
guest=$(testguest/build.sh | tail -n 1)

demo=$(mktemp -d /tmp/vmrunner-demo.XXXXXX)
mkdir -p "$demo/templates"
sed -e "s|@GUEST@|$guest|" -e "s|@SERIAL@|$demo/serial.log|" -e "s|@APPEND@||" \
    -e "s|@CMDSOCK@|$demo/command.sock|" -e "s|@TESTQMP@|$demo/observer.sock|" \
    testguest/testguest.ftl.yaml.in > "$demo/templates/demo.ftl.yaml"
cat > "$demo/config.yaml" <<CONFIG
"/Runner":
  dataDir: $demo/data
  runtimeDir: $demo/run
  template: demo.ftl.yaml
  vm:
    name: demo
    firmware: bios
    accelerator: tcg      # nested KVM is unreliable here; use kvm on real hardware
    cpuModel: max
    maximumRam: 256M
    maximumCpus: 2
    currentCpus: 1
    powerdownTimeout: 30
    network:
      - type: user
CONFIG

echo "== Starting: bin/vmrunner -c $demo/config.yaml --templates-dir $demo/templates"
bin/vmrunner -c "$demo/config.yaml" --templates-dir "$demo/templates" 2>"$demo/runner.log" &
runner=$!
i=0
until grep -q "VMRUNNER-GUEST: booted" "$demo/serial.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $runner 2>/dev/null; then
        echo "The guest did not boot; runner log:"; cat "$demo/runner.log"; exit 1
    fi
    sleep 0.1
done
echo "== The guest booted. Its console says:"
grep "VMRUNNER-GUEST" "$demo/serial.log"
echo "== Sending SIGTERM to the runner (pid $runner)"
kill -TERM $runner
set +e
wait $runner
code=$?
set -e
echo "== The runner's log:"
cat "$demo/runner.log"
echo "== The guest's console after the stop:"
grep "VMRUNNER-GUEST" "$demo/serial.log"
echo "== Runner exit code: $code (0 = the guest powered off cleanly)"
[ -d "$demo/run" ] && echo "runtime directory still there!" || echo "Runtime directory removed."
rm -rf "$demo"
exit $code
