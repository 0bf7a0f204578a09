package dev.vmrunner.launch;

import freemarker.template.TemplateBooleanModel;
import freemarker.template.TemplateScalarModel;

/**
 * {@code vm.display.spice.streamingVideo} in the template model: QEMU's value as a string, as
 * upstream templates print it ({@code streaming-video=${ spice.streamingVideo }}), and a boolean
 * (anything but {@code off}), as vmrunner's templates up to now test it ({@code <#if
 * spice.streamingVideo>}; VMs keep the template copy of their first start).
 */
final class StreamingVideoModel implements TemplateBooleanModel, TemplateScalarModel {
    private final String value;

    StreamingVideoModel(String value) {
        this.value = value;
    }

    @Override
    public boolean getAsBoolean() {
        return !"off".equals(value);
    }

    @Override
    public String getAsString() {
        return value;
    }

    @Override
    public String toString() {
        return value;
    }
}
