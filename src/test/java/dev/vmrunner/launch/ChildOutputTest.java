package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.logging.Level;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The level each kind of line a child prints is logged at (real lines of QEMU and swtpm). */
class ChildOutputTest {

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(
            delimiter = '|',
            textBlock =
"""
WARNING | qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.80000001H:ECX.svm [bit 2]
WARNING | 2026-12-02T12:00:00.123456Z qemu-system-x86_64: warning: dbus-vmstate: no such helper
SEVERE  | qemu-system-x86_64: -drive file=/nonexistent.iso,media=cdrom: Could not open '/nonexistent.iso': No such file or directory
SEVERE  | qemu-kvm: -netdev bridge,id=n0,br=br9: bridge helper failed
SEVERE  | 2026-12-02T12:00:00.123456Z qemu-system-aarch64: failed to initialize kvm: Permission denied
INFO    | qemu-system-x86_64: terminating on signal 15 from pid 4711 (java)
INFO    | qemu-system-x86_64: info: Launching display with SPICE
INFO    | char device redirected to /dev/pts/3 (label serial0)
INFO    | qemu-ga: guest agent started
WARNING | swtpm: warning: cannot lock the state
SEVERE  | swtpm_setup: error: TPM state already exists
INFO    | Starting vTPM manufacturing as vmrunner:vmrunner @ Wed 02 Dec 2026 12:41:42 PM UTC
INFO    | Successfully created RSA 2048 EK with handle 0x81010001.
INFO    | swtpm_localca: Successfully created EK certificate locally.
FINE    | '  Invoking /usr/bin/swtpm_localca --type ek --ek 9c7f304a6b40f7cf042e77d5b2957766543c181b770f4040b5852f255c7e197bc5bd13934a0a61805b6f9a98ee74725f031c39144f44092fcb3deffec --dir /tmp/x'
FINE    | ' 80 01 00 00 00 0c 00 00 01 44 00 00'
FINE    | 00000010: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
INFO    | the answer is 42 42 42
INFO    | ''
FINE    | Failed to send 47 bytes to syslog
INFO    | Failed to send the report to syslog, giving up after 3 tries
INFO    | UNIX domain socket bound at /run/vmrunner/vm/passt.sock
""")
    void levelOfALine(String level, String line) {
        assertEquals(Level.parse(level), ChildOutput.level(line));
    }
}
