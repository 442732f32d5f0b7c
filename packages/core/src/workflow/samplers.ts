/** The sampler node classes: the KSampler pair and the SamplerCustom family. */
export const SAMPLER_TYPES: ReadonlySet<string> = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);
