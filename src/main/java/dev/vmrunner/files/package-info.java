/** File writing that never leaves a half-written file behind; depends on nothing of ours. */
package dev.vmrunner.files;
