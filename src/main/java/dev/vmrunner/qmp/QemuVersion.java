package dev.vmrunner.qmp;

/**
 * QEMU's version from {@code query-version} ({@code qemu.major/minor/micro}; the {@code package}
 * string, e.g. Debian's revision, is left out). Ordered by major, minor, micro.
 */
public record QemuVersion(int major, int minor, int micro) implements Comparable<QemuVersion> {

    /** True when this version is {@code major.minor} or newer. */
    public boolean atLeast(int wantedMajor, int wantedMinor) {
        return compareTo(new QemuVersion(wantedMajor, wantedMinor, 0)) >= 0;
    }

    @Override
    public int compareTo(QemuVersion other) {
        int byMajor = Integer.compare(major, other.major);
        if (byMajor != 0) {
            return byMajor;
        }
        int byMinor = Integer.compare(minor, other.minor);
        return byMinor != 0 ? byMinor : Integer.compare(micro, other.micro);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + micro;
    }
}
