package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/** One mixed block: parallel branches over the same input, concatenated along channels in a fixed order. */
interface Block {
    FeatureMap forward(Ops ops, FeatureMap x);
}
