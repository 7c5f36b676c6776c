"""Multi-exit ViT tooling for Cleave: build, train, calibrate and export model packs."""
