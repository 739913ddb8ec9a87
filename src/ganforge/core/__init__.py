"""The GAN machinery every modality shares; it knows nothing of tables, images or texts."""
