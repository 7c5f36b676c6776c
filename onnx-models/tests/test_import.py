"""Importer parity: a pack cut from a torchvision or timm-layout ViT gives its source's logits.

    /usr/bin/python3 -m unittest discover -s onnx-models/tests -v

ONNX Runtime's Python package is not installed here, so the ONNX graphs themselves are checked
through the Java engine (core's ImportedPackParityTest, on the packs these scripts write); here the
segment modules that are exported (the patch-matmul stem, each block, the head) are chained in
PyTorch and compared with the source model. Random weights everywhere, perturbed so that no
parameter keeps a trivial initial value (torchvision zero-initialises its head).
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import import_vit  # noqa: E402
from cleave_vit import export, imported, pack_model, timm_reference  # noqa: E402
from torchvision.models.vision_transformer import VisionTransformer  # noqa: E402

TOL = 1e-4


def perturb(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return module.eval()


def chained(m, x):
    """Stem as exported (patch-matmul), each block, then every exit: the pack's chain in PyTorch."""
    stem = export.PatchMatmulStem(m.stem).eval()
    with torch.no_grad():
        t = stem(x)
        seq = [t]
        for b in m.blocks:
            t = b(t)
            seq.append(t)
        return [m.exits[e](seq[b]) for e, (b, _) in enumerate(m.exit_specs)]


def inputs(c, n=5, seed=1):
    return torch.randn(n, c["channels"], c["image"], c["image"], generator=torch.Generator().manual_seed(seed))


class TorchvisionImportTest(unittest.TestCase):
    def check(self, src, **kw):
        torch.set_num_threads(1)
        m = imported.from_torchvision(src.state_dict(), **kw)
        x = inputs(m.config)
        with torch.no_grad():
            want = src(x)
        got = chained(m, x)[-1]
        self.assertEqual(tuple(got.shape), tuple(want.shape))
        diff = float((got - want).abs().max())
        self.assertLessEqual(diff, TOL, f"max abs diff {diff}")
        self.assertGreater(float(want.abs().max()), 1e-2, "logits must not be trivially zero")
        return m

    def test_smallGeometry_chainedSegmentsMatchTorchvision(self):
        torch.manual_seed(0)
        src = perturb(VisionTransformer(image_size=32, patch_size=8, num_layers=3, num_heads=2, hidden_dim=32,
                                        mlp_dim=64, num_classes=7), 1)
        m = self.check(src, heads=2)
        self.assertEqual(m.config["depth"], 3)
        self.assertEqual(m.tokens, 17)

    def test_representationLayer_isPartOfTheFinalExit(self):
        torch.manual_seed(0)
        src = perturb(VisionTransformer(image_size=24, patch_size=6, num_layers=2, num_heads=4, hidden_dim=48,
                                        mlp_dim=96, num_classes=3, representation_size=20), 2)
        self.check(src, heads=4)

    def test_legacyMlpKeys_areRead(self):
        torch.manual_seed(0)
        src = perturb(VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16,
                                        mlp_dim=32, num_classes=4), 3)
        sd = {k.replace("mlp.0.", "mlp.linear_1.").replace("mlp.3.", "mlp.linear_2."): v
              for k, v in src.state_dict().items()}
        m = imported.from_torchvision(sd, heads=2)
        x = inputs(m.config)
        with torch.no_grad():
            self.assertLessEqual(float((chained(m, x)[-1] - src(x)).abs().max()), TOL)

    def test_unknownWidthWithoutHeads_isAClearError(self):
        src = VisionTransformer(image_size=16, patch_size=8, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32)
        with self.assertRaisesRegex(imported.UnsupportedModel, "--heads"):
            imported.from_torchvision(src.state_dict())

    def test_notAViT_isAClearError(self):
        with self.assertRaisesRegex(imported.UnsupportedModel, "conv_proj.weight"):
            imported.from_torchvision({"fc.weight": torch.zeros(2, 2)})


class TimmImportTest(unittest.TestCase):
    def check(self, distilled, exits=()):
        torch.set_num_threads(1)
        torch.manual_seed(0)
        src = perturb(timm_reference.VisionTransformer(img_size=32, patch_size=8, num_classes=6, embed_dim=48,
                                                       depth=3, num_heads=3, mlp_ratio=4.0, distilled=distilled), 4)
        m = imported.from_timm(src.state_dict(), heads=3, exits=exits)
        x = inputs(m.config)
        with torch.no_grad():
            want = src(x)
        outs = chained(m, x)
        diff = float((outs[-1] - want).abs().max())
        self.assertLessEqual(diff, TOL, f"max abs diff {diff}")
        return m, outs

    def test_vit_chainedSegmentsMatchSource(self):
        m, _ = self.check(distilled=False)
        self.assertEqual(m.tokens, 17)

    def test_deitDistilled_usesBothHeads(self):
        m, _ = self.check(distilled=True)
        self.assertEqual(m.tokens, 18)
        self.assertIsNotNone(m.head.head_dist)

    def test_extraExits_giveLogitsOfTheRightShape(self):
        m, outs = self.check(distilled=False, exits=[(1, "mlp"), (2, "vit"), (2, "cnn_add")])
        self.assertEqual([b for b, _ in m.exit_specs], [1, 2, 2, 3])
        for o in outs:
            self.assertEqual(tuple(o.shape), (5, 6))

    def test_cnnMixerAndResmlpExits_giveLogitsOfTheRightShape(self):
        # the other four exit types (their ONNX graphs: core's ImportedPackParityTest on tiny-exit-types)
        m, outs = self.check(distilled=False, exits=[(1, "cnn_ignore"), (1, "cnn_project"), (2, "mixer"), (2, "resmlp")])
        self.assertEqual([k for _, k in m.exit_specs], ["cnn_ignore", "cnn_project", "mixer", "resmlp", "final"])
        for o in outs:
            self.assertEqual(tuple(o.shape), (5, 6))
            self.assertTrue(bool(torch.isfinite(o).all()))
            self.assertGreater(float(o.abs().max()), 0.0)

    def test_unsupportedVariant_isNamed(self):
        sd = timm_reference.VisionTransformer(img_size=16, patch_size=8, embed_dim=192, depth=1).state_dict()
        sd["fc_norm.weight"] = torch.ones(192)
        with self.assertRaisesRegex(imported.UnsupportedModel, "fc_norm"):
            imported.from_timm(sd)

    def test_unknownKey_isNamed(self):
        sd = timm_reference.VisionTransformer(img_size=16, patch_size=8, embed_dim=192, depth=1).state_dict()
        sd["blocks.0.extra.weight"] = torch.ones(3)
        with self.assertRaisesRegex(imported.UnsupportedModel, "blocks.0.extra.weight"):
            imported.from_timm(sd)


class ImportCommandTest(unittest.TestCase):
    def test_torchvisionFile_becomesAVersion2PackWithSourceLogits(self):
        torch.manual_seed(0)
        src = perturb(VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32,
                                        mlp_dim=64, num_classes=3), 5)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tv.pth")
            torch.save(src.state_dict(), path)
            labels = os.path.join(d, "labels.txt")
            with open(labels, "w") as f:
                f.write("cat\ndog\nrocket\n")
            out = os.path.join(d, "pack")
            man = import_vit.main(["--torchvision", path, "--heads", "2", "--labels", labels, "--out", out,
                                   "--exits", "1:mlp", "--interpolation", "bicubic", "--golden", "3"])
            with open(os.path.join(out, "manifest.json")) as f:
                self.assertEqual(json.load(f), man)
            self.assertEqual(man["formatVersion"], 2)
            self.assertTrue(man["trained"])
            self.assertEqual(man["labels"], ["cat", "dog", "rocket"])
            self.assertEqual(man["input"]["preprocessing"]["resize"], 36)
            self.assertEqual(man["input"]["preprocessing"]["crop"], 32)
            self.assertEqual(man["input"]["preprocessing"]["interpolation"], "bicubic")
            self.assertEqual([e["type"] for e in man["exits"]], ["mlp", "final"])
            self.assertEqual([e["trained"] for e in man["exits"]], [False, True])
            for f, digest in man["files"].items():
                self.assertEqual(export.sha256(os.path.join(out, f)), digest)
            x = np.fromfile(os.path.join(out, "golden/input.f32"), "<f4").reshape(3, 3, 32, 32)
            recorded = np.fromfile(os.path.join(out, "golden/source_logits.f32"), "<f4").reshape(3, 3)
            with torch.no_grad():
                np.testing.assert_allclose(recorded, src(torch.from_numpy(x)).numpy(), atol=1e-6)

    def test_timmDeitFile_becomesAPackCheckedAgainstTheReference(self):
        torch.manual_seed(0)
        src = perturb(timm_reference.VisionTransformer(img_size=32, patch_size=8, num_classes=3, embed_dim=48, depth=2,
                                                       num_heads=3, distilled=True), 6)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "deit.pth")
            torch.save({"model": src.state_dict()}, path)  # DeiT's released checkpoints wrap the state dict so
            man = import_vit.main(["--timm", path, "--heads", "3", "--out", os.path.join(d, "p"), "--golden", "2"])
            self.assertEqual(man["source"]["kind"], "timm")
            self.assertEqual(man["tokens"]["count"], 18)
            self.assertLessEqual(man["training"]["parityMaxAbsDiff"], TOL)
            self.assertEqual(man["labels"], ["class_0", "class_1", "class_2"])

    def test_checkpointHoldingMoreThanTensors_needsUnsafeLoad(self):
        import argparse
        src = timm_reference.VisionTransformer(img_size=16, patch_size=8, num_classes=2, embed_dim=16, depth=1,
                                               num_heads=2)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ck.pth")
            torch.save({"model": src.state_dict(), "args": argparse.Namespace(lr=1)}, path)
            with self.assertRaisesRegex(SystemExit, "--unsafe-load"):
                import_vit.main(["--timm", path, "--heads", "2", "--out", os.path.join(d, "p")])
            man = import_vit.main(["--timm", path, "--heads", "2", "--unsafe-load", "--out", os.path.join(d, "p"),
                                   "--golden", "1"])
            self.assertEqual(man["source"]["kind"], "timm")

    def test_goldenPhotos_areRecordedThroughTheEvalTransform(self):
        photos = ["/usr/lib/python3/dist-packages/skimage/data/rocket.jpg"]
        if not os.path.exists(photos[0]):
            self.skipTest("python3-skimage is not installed")
        with tempfile.TemporaryDirectory() as d:
            man = import_vit.main(["--random-init", "--image", "32", "--patch", "8", "--dim", "16", "--depth", "1",
                                   "--heads", "2", "--classes", "4", "--golden", "1", "--out", os.path.join(d, "p"),
                                   "--golden-photos"] + photos)
            self.assertEqual(man["golden"]["photos"], ["rocket.jpg"])
            names = {t["name"]: t["shape"] for t in man["golden"]["tensors"]}
            self.assertEqual(names["photo_input"], [1, 3, 32, 32])
            self.assertEqual(names["photo_source_logits"], [1, 4])

    def test_grayscaleRandomInit_isAGrayPack(self):
        with tempfile.TemporaryDirectory() as d:
            man = import_vit.main(["--random-init", "--image", "28", "--patch", "4", "--channels", "1", "--dim", "16",
                                   "--depth", "1", "--heads", "2", "--classes", "10", "--mean", "0.286", "--std", "0.353",
                                   "--golden", "1", "--out", os.path.join(d, "g")])
            self.assertEqual(man["input"]["color"], "GRAY")
            self.assertEqual(man["input"]["shape"], [1, 28, 28])

    def test_randomInit_isLabelledUntrained(self):
        with tempfile.TemporaryDirectory() as d:
            man = import_vit.main(["--random-init", "--image", "16", "--patch", "8", "--dim", "16", "--depth", "2",
                                   "--heads", "2", "--classes", "4", "--out", os.path.join(d, "r"), "--golden", "2"])
            self.assertFalse(man["trained"])
            self.assertEqual(man["source"]["kind"], "random-init")
            self.assertFalse(any(e["trained"] for e in man["exits"]))
            self.assertIn("untrained", man["model"]["description"])

    def test_wrongLabelCount_refusesToWrite(self):
        with tempfile.TemporaryDirectory() as d:
            labels = os.path.join(d, "l.txt")
            with open(labels, "w") as f:
                f.write("a\nb\n")
            with self.assertRaisesRegex(SystemExit, "2 names for a model with 4 classes"):
                import_vit.main(["--random-init", "--image", "16", "--patch", "8", "--dim", "16", "--depth", "1",
                                 "--heads", "2", "--classes", "4", "--labels", labels, "--out", os.path.join(d, "r")])
            self.assertFalse(os.path.exists(os.path.join(d, "r")))

    def test_randomInitPack_isRebuiltExactlyFromItsManifest_forTheBenchmark(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r")
            import_vit.main(["--random-init", "--image", "16", "--patch", "8", "--dim", "16", "--depth", "3", "--heads", "2",
                             "--classes", "4", "--exits", "1:mlp,2:vit", "--seed", "5", "--golden", "2", "--out", out])
            m, note = pack_model.load(out)
            self.assertIn("matches the pack's golden tensors (max |diff| 0)", note)
            self.assertEqual(len(m.exits), 3)
            path = os.path.join(out, "manifest.json")
            with open(path, encoding="utf-8") as f:
                man = json.load(f)
            man["source"]["seed"] = 6  # another seed is another model: the check must refuse it
            with open(path, "w", encoding="utf-8") as f:
                json.dump(man, f)
            with self.assertRaisesRegex(SystemExit, "differs from the pack's golden tensors"):
                pack_model.load(out)


if __name__ == "__main__":
    unittest.main()
