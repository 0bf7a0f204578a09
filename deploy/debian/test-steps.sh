# The steps of deploy/debian/test-package.sh, run by bash as root in a fresh Debian root with the
# package at $DEB. Each step prints a line '== STEP' and what the commands said; the last line
# is 'ALL STEPS PASSED' only if every step passed (set -e ends the script at the first failure).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
step() { printf '\n== %s\n' "$*"; }
cp "$DEB" /tmp/ && deb=/tmp/${DEB##*/} && chmod 644 "$deb"
example=/usr/share/doc/vmrunner/examples/tcg-user-net.yaml

step "lintian $(lintian --version)"
lintian --fail-on error --info "$deb" || { echo "lintian found errors"; exit 1; }
echo "lintian: no errors"

step "apt-get install ./${deb##*/}"
cd /tmp && apt-get install -y --no-install-recommends "./${deb##*/}" 2>&1 | tr -d '\r' | grep -v '^\((Reading\|Reading\|Building\)'
dpkg-query -W vmrunner

step "every bundled jar has its licence in copyright and THIRD-PARTY.txt"
doc=/usr/share/doc/vmrunner
for jar in /usr/share/vmrunner/*.jar; do
    name=${jar##*/} && name=${name%-*.jar}
    [ "${jar##*/}" != vmrunner.jar ] || continue
    grep -q "^Files: usr/share/vmrunner/$name-\*.jar$" $doc/copyright \
        || { echo "$jar: not in $doc/copyright"; exit 1; }
    grep -q ":$name  *Apache-2.0 " $doc/THIRD-PARTY.txt \
        || { echo "$jar: not in $doc/THIRD-PARTY.txt"; exit 1; }
    echo "$name: listed"
done

step "vmrunner --version"
vmrunner --version

step "man vmrunner"
MANWIDTH=80 man -P cat vmrunner | head -n 12
MANWIDTH=80 man -P cat vmrunner | grep -q -- '--templates-dir'
step "man 5 vmrunner.yaml"
MANWIDTH=80 man -P cat 5 vmrunner.yaml | head -n 8

step "systemd-analyze verify vmrunner@example.service"
mkdir -p /etc/opt/vmrunner && cp "$example" /etc/opt/vmrunner/example.yaml
systemd-analyze verify vmrunner@example.service 2>&1 | tee /tmp/verify.txt
if grep -q 'vmrunner' /tmp/verify.txt; then echo "systemd-analyze complained about the unit"; exit 1; fi
echo "systemd-analyze: the unit is fine"

step "vmrunner check -c $example"
vmrunner check -c "$example"

step "run the example VM (TCG, UEFI, no disk), wait until it runs"
sed 's/^    name: example-tcg$/&\n    powerdownTimeout: 5/' "$example" > /tmp/vm.yaml
vmrunner -c /tmp/vm.yaml 2> /tmp/runner.log &
runner=$!
for _ in $(seq 1 240); do
    vmrunner status -c /tmp/vm.yaml --ready >/dev/null 2>&1 && break
    kill -0 $runner 2>/dev/null || { cat /tmp/runner.log; echo "the runner ended"; exit 1; }
    sleep 0.5
done
vmrunner status -c /tmp/vm.yaml

step "upgrade to a higher version while the VM runs (the same package, Version +upgrade1)"
mkdir -p /tmp/up && dpkg-deb -R "$deb" /tmp/up/root
sed -i 's/^Version: .*/&+upgrade1/' /tmp/up/root/DEBIAN/control
dpkg-deb --root-owner-group -b /tmp/up/root /tmp/up/vmrunner_upgrade1_all.deb >/dev/null
chmod 644 /tmp/up/vmrunner_upgrade1_all.deb
apt-get install -y ./up/vmrunner_upgrade1_all.deb 2>&1 | tr -d '\r' | grep -v '^\((Reading\|Reading\|Building\)'
dpkg-query -W vmrunner
kill -0 $runner && echo "the runner (pid $runner) still runs"
vmrunner status -c /tmp/vm.yaml --ready && echo "and its VM is running"

step "stop the VM: SIGTERM (the firmware ignores the power button: exit 4 after 5 s)"
kill -TERM $runner
code=0 && wait $runner || code=$?
tail -n 4 /tmp/runner.log
echo "runner exit code: $code"
[ "$code" = 4 ]

step "remove"
mkdir -p /var/lib/vmrunner/example && echo data > /var/lib/vmrunner/example/disk.img
apt-get remove -y vmrunner 2>&1 | tr -d '\r' | grep -v '^\((Reading\|Reading\|Building\)'
[ ! -e /usr/bin/vmrunner ] && [ ! -e /lib/systemd/system/vmrunner@.service ]
dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' vmrunner

step "purge keeps the VMs' data"
apt-get purge -y vmrunner 2>&1 | tr -d '\r' | grep -v '^\((Reading\|Reading\|Building\)'
[ -f /var/lib/vmrunner/example/disk.img ] && echo "/var/lib/vmrunner kept"

step "purge with VMRUNNER_PURGE_DATA=yes removes it"
apt-get install -y "./${deb##*/}" >/dev/null 2>&1
VMRUNNER_PURGE_DATA=yes apt-get purge -y vmrunner 2>&1 | tr -d '\r' | grep -v '^\((Reading\|Reading\|Building\)'
[ ! -e /var/lib/vmrunner ] && echo "/var/lib/vmrunner removed"
! dpkg-query -W vmrunner 2>/dev/null

printf '\nALL STEPS PASSED\n'
