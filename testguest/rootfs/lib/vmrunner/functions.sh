# Shared helpers of the vmrunner test guest (sourced by /init and handlers).

# The tty the markers go to: ttyS0 if that UART exists, else the console.
marker_tty() {
    if [ -r /run/vmrunner/marker-tty ]; then
        read -r MARKER_TTY </run/vmrunner/marker-tty
    else
        MARKER_TTY=/dev/console
    fi
}

# marker TEXT...: print "VMRUNNER-GUEST: TEXT" as one line (one write).
marker() {
    [ -n "${MARKER_TTY:-}" ] || marker_tty
    echo "VMRUNNER-GUEST: $*" >"$MARKER_TTY" 2>/dev/null || echo "VMRUNNER-GUEST: $*" >/dev/console
}

# Wait until everything written to the marker tty has left the UART
# (tcsetattr(TCSADRAIN) as done by stty), so a marker printed right before
# poweroff is not lost.
drain_marker_tty() {
    [ -n "${MARKER_TTY:-}" ] || marker_tty
    _s=$(stty -F "$MARKER_TTY" -g 2>/dev/null) && stty -F "$MARKER_TTY" "$_s" 2>/dev/null
    return 0
}
