"""Tables: schema inference, the reversible transform, and the conditional tabular GAN."""
