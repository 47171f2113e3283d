package dev.tessera.samplers;

/**
 * The sampling settings of one family (its official defaults are a constant or a factory of the settings type,
 * defined once there): {@code VarSettings}, {@code LlamaGenSettings}, {@code TokenSettings} (NAR) and
 * {@code FlowArSettings}. What every family shares is classifier-free guidance.
 */
public interface SamplingSettings {
    /** The classifier-free guidance scale (each family documents how it applies it). */
    double cfg();
}
