"""Training an imported ViT's added exits on the user's own ImageFolder (import_vit.py --train-images).

    /usr/bin/python3 -m unittest discover -s onnx-models/tests -v

A real folder of PNG files is written from Debian's Fashion-MNIST (four classes); the backbone is
either a tiny torchvision ViT trained here for a few seconds, or random weights. Held-out images
come from Fashion-MNIST's test split, which neither the backbone nor the exits ever see.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
import import_vit  # noqa: E402
import make_test_fixtures  # noqa: E402
from cleave_vit import data, exit_training  # noqa: E402

CLASSES = (0, 1, 2, 3)  # T-shirt/top, Trouser, Pullover, Dress: chance is 0.25
HAVE_DATA = os.path.isdir(data.DEBIAN_DIR)
GRAY = ["--image", "28", "--patch", "4", "--channels", "1", "--resize", "28", "--mean", "0.286", "--std", "0.353"]


def golden(pack, name, shape):
    return np.fromfile(os.path.join(pack, "golden", name + ".f32"), "<f4").reshape(shape)


def run(args):
    """import_vit in this process; (manifest or None, exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return import_vit.main(args), 0, err.getvalue()
        except SystemExit as e:
            return None, e.code, err.getvalue()


@unittest.skipUnless(HAVE_DATA, "Debian's dataset-fashion-mnist is not installed")
class ExitTrainingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.dir = tempfile.mkdtemp(prefix="cleave-exits-")
        x, y = data.load("train")
        tx, ty = data.load("test")
        cls.train = os.path.join(cls.dir, "train")
        cls.test = os.path.join(cls.dir, "test")
        data.write_image_folder(cls.train, x, y, 60, CLASSES)  # 240 of the user's images
        data.write_image_folder(cls.test, tx, ty, 50, CLASSES)  # 200 held out
        cls.vit = os.path.join(cls.dir, "tiny.pth")
        torch.save(make_test_fixtures.tiny_torchvision_vit(CLASSES, per_class=500, epochs=2).state_dict(), cls.vit)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def out(self, name):
        return os.path.join(self.dir, name)

    def test_trainedBackbone_exitsLearnAndAreCalibratedOnValidation(self):
        args = ["--torchvision", self.vit, "--heads", "4", "--mean", "0.286", "0.286", "0.286", "--std", "0.353",
                "0.353", "0.353", "--resize", "28", "--exits", "1:mlp,2:vit", "--train-images", self.train,
                "--test-images", self.test, "--epochs", "10", "--golden", "2", "--out", self.out("tv")]
        man, code, err = run(args)
        self.assertEqual(code, 0, err)
        self.assertTrue(man["trained"])
        self.assertEqual(man["labels"], ["00-T-shirt-top", "01-Trouser", "02-Pullover", "03-Dress"])
        exits = man["exits"]
        self.assertEqual([e["type"] for e in exits], ["mlp", "vit", "final"])
        self.assertEqual([e["trained"] for e in exits], [True, True, True])
        for e in exits:
            print(f"trained backbone, exit after block {e['afterBlock']} ({e['type']}): validation "
                  f"{e['accuracy']['validation']:.3f}, held-out test {e['accuracy']['test']:.3f}, "
                  f"T={e['temperature']:.3f}, ECE {e['ece']['validationBefore']:.3f} -> {e['ece']['validationAfter']:.3f}"
                  + (f", kept {e['training']['regime']} of {e['training']['validation']}" if "training" in e else ""))
            self.assertGreater(e["accuracy"]["test"], 0.5, "held-out accuracy well above chance (0.25)")
            self.assertNotEqual(e["temperature"], 1.0)  # fitted (NLL on 48 validation images; ECE may go either way)
            self.assertGreater(e["temperature"], 0)
            self.assertEqual([t["threshold"] for t in e["thresholds"]], [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
        for e in exits[:2]:
            self.assertIn(e["training"]["regime"], ("labels", "copycat"))
            self.assertEqual(e["copycat"], e["training"]["regime"] == "copycat")
            self.assertEqual(set(e["training"]["validation"]), {"labels", "copycat"})
        rec = man["training"]["addedExits"]
        self.assertEqual((rec["images"]["train"], rec["images"]["validation"], rec["images"]["test"]), (192, 48, 200))
        self.assertEqual((rec["epochs"], rec["device"], rec["regime"]), (10, "cpu", "best"))
        self.assertGreater(rec["seconds"], 0)
        # the recorded logits are those of the trained heads: rerun the exported exits' modules on golden input
        self.assertEqual(golden(self.out("tv"), "logits_exit_0", (2, 4)).shape, (2, 4))

    def test_randomBackbone_isUntrainedButItsExitsAreTrainedAndMeasured(self):
        man, code, err = run(["--random-init"] + GRAY + ["--dim", "32", "--depth", "3", "--heads", "2", "--exits",
                              "1:mlp,2:vit", "--train-images", self.train, "--test-images", self.test, "--epochs",
                              "10", "--regime", "labels", "--golden", "2", "--out", self.out("rnd")])
        self.assertEqual(code, 0, err)
        self.assertFalse(man["trained"], "the backbone and its head are random")
        self.assertEqual(man["geometry"]["classes"], 4, "--classes defaults to the number of class folders")
        self.assertEqual([e["trained"] for e in man["exits"]], [True, True, False])
        for e in man["exits"]:
            print(f"random backbone, exit after block {e['afterBlock']} ({e['type']}): held-out test "
                  f"{e['accuracy']['test']:.3f}")
        # measured, not assumed: a random backbone's tokens still carry the image, and a trained head
        # reads some of it (an honest floor; the random head itself stays near chance)
        self.assertGreater(man["exits"][1]["accuracy"]["test"], 0.35)
        self.assertLess(man["exits"][2]["accuracy"]["test"], 0.4)
        self.assertEqual({e["training"]["regime"] for e in man["exits"][:2]}, {"labels"})

    def test_resume_extendingOrAfterAnInterruption_equalsAStraightRun(self):
        base = ["--random-init"] + GRAY + ["--dim", "32", "--depth", "2", "--heads", "2", "--exits", "1:mlp",
                                           "--train-images", self.train, "--golden", "2"]
        straight, code, err = run(base + ["--epochs", "2", "--checkpoint", self.out("a.ckpt"), "--out", self.out("s")])
        self.assertEqual(code, 0, err)
        # --epochs 1, then --epochs 2 on the same checkpoint
        run(base + ["--epochs", "1", "--checkpoint", self.out("b.ckpt"), "--out", self.out("e1")])
        extended, code, err = run(base + ["--epochs", "2", "--checkpoint", self.out("b.ckpt"), "--out", self.out("e2")])
        self.assertEqual(code, 0, err)
        self.assertEqual(extended["training"]["addedExits"]["resumedAfterEpoch"], 1)
        # killed after its first epoch was saved, then the same command again
        real_save = exit_training.save_atomically

        def save_then_die(state, path):
            real_save(state, path)
            raise KeyboardInterrupt("interrupted after an epoch")

        with mock.patch.object(exit_training, "save_atomically", save_then_die):
            with self.assertRaises(KeyboardInterrupt):
                run(base + ["--epochs", "2", "--checkpoint", self.out("c.ckpt"), "--out", self.out("i")])
        resumed, code, err = run(base + ["--epochs", "2", "--checkpoint", self.out("c.ckpt"), "--out", self.out("i")])
        self.assertEqual(code, 0, err)
        self.assertEqual(resumed["training"]["addedExits"]["resumedAfterEpoch"], 1)
        want = golden(self.out("s"), "logits_exit_0", (2, 4))
        self.assertFalse(np.array_equal(want, golden(self.out("e1"), "logits_exit_0", (2, 4))),
                         "one epoch must differ from two, or this test proves nothing")
        for other, man in (("e2", extended), ("i", resumed)):
            np.testing.assert_array_equal(golden(self.out(other), "logits_exit_0", (2, 4)), want)
            self.assertEqual(man["exits"][0]["temperature"], straight["exits"][0]["temperature"])
            self.assertEqual(man["exits"][0]["thresholds"], straight["exits"][0]["thresholds"])

    def test_badInputs_areOneLineErrorsWithStatus2(self):
        one = os.path.join(self.dir, "one")
        os.makedirs(os.path.join(one, "only"))
        shutil.copy(os.path.join(self.train, "01-Trouser", "00000.png"), os.path.join(one, "only"))
        empty = os.path.join(self.dir, "empty")
        shutil.copytree(one, empty)
        os.makedirs(os.path.join(empty, "nothing"))
        base = ["--random-init"] + GRAY + ["--dim", "16", "--depth", "2", "--heads", "2", "--exits", "1:mlp",
                                           "--out", self.out("bad")]
        cases = [
            (["--train-images", self.out("missing")], "--train-images .*missing: no such directory"),
            (["--train-images", one], "--train-images .*one: found 1 class folder \\(only\\); a classifier needs at least 2"),
            (["--train-images", empty], "--train-images .*empty: no images in class folder\\(s\\) nothing"),
            (["--train-images", self.train, "--classes", "3"], "--train-images .*train: 4 class folders for a model with 3 classes"),
            (["--train-images", self.train, "--val-fraction", "1"], "--val-fraction 1.0: must be between 0 and 1"),
            (["--epochs", "3"], "--epochs needs --train-images"),
        ]
        if not torch.cuda.is_available():
            cases.append((["--train-images", self.train, "--device", "cuda"], "--device cuda: no CUDA device"))
        for extra, message in cases:
            with self.subTest(extra=extra):
                man, code, err = run(base + extra)
                self.assertEqual(code, 2)
                self.assertRegex(err, "^import_vit.py: error: " + message)
                self.assertEqual(err.count("\n"), 1, err)
                self.assertFalse(os.path.exists(self.out("bad")))
        # and as a real process: the status and the one line
        p = subprocess.run([sys.executable, os.path.join(ROOT, "import_vit.py")] + base
                           + ["--train-images", self.out("missing")], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
        self.assertIn("no such directory", p.stderr)

    def test_checkpointOfAnotherRun_isRefused(self):
        base = ["--random-init"] + GRAY + ["--dim", "16", "--depth", "2", "--heads", "2", "--exits", "1:mlp",
                                           "--train-images", self.train, "--epochs", "1", "--golden", "1",
                                           "--checkpoint", self.out("d.ckpt")]
        _, code, err = run(base + ["--out", self.out("d1")])
        self.assertEqual(code, 0, err)
        _, code, err = run(base + ["--lr", "0.01", "--out", self.out("d2")])
        self.assertEqual(code, 2)
        self.assertIn("written for another run (differs in: lr)", err)


class ProgressTest(unittest.TestCase):
    def test_notATerminal_writesOnlyTheFinishedLine(self):
        s = io.StringIO()
        bar = exit_training.Progress(4, "work", stream=s)
        for _ in range(4):
            bar.update()
        bar.close("done")
        self.assertRegex(s.getvalue(), r"^work \[#+\] 4/4 [0-9.]+s done\n$")


if __name__ == "__main__":
    unittest.main()
