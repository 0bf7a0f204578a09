package dev.vmrunner.qmp;

/** One present vCPU from {@code query-cpus-fast}. */
public record CpuInfo(int cpuIndex, String qomPath) {}
