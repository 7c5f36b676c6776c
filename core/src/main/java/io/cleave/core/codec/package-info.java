/** Wire encodings of tensors: fp32, fp16, int8 with per-token scale, raw image bytes. */
package io.cleave.core.codec;
