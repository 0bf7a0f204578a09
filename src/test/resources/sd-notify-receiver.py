# A stand-in for systemd's notification socket (AF_UNIX, SOCK_DGRAM): appends every message
# to a file, each followed by a line "---", and closes the file descriptors that come with a
# message (systemd-notify's barrier waits for that).
import array
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a") as f:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
                for fd in fds:
                    os.close(fd)
        f.write(msg.decode("utf-8", "replace") + "\n---\n")
        f.flush()
