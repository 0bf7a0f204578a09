package dev.vmrunner.config;

/**
 * Display settings.
 *
 * @param outputs number of display outputs (heads) or {@code null} for the template's default
 * @param spice SPICE settings or {@code null} for no SPICE server
 */
public record Display(Integer outputs, Spice spice) {}
