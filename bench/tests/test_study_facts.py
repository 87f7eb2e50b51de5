"""Facts from the source studies that the suite reproduces on real data (CPU, small subset)."""

from cnnbench.bench.runner import Runner
from cnnbench.bench.tests.common import cfg


def test_the_lab4_softmax_nll_bug_costs_accuracy(tmp_path, fashion_dir):
    # Lab 4 fed softmax probabilities to nll_loss: the loss is −p(correct), bottoming out at
    # −1.0 with vanishing gradients. Same data, seed and recipe, the corrected net learns faster.
    common = dict(dataset="fashion-mnist", data_dir=str(fashion_dir), epochs=2,
                  limit_train=2048, val_size=500)
    fixed = Runner("seed001_lab4_maxpool", cfg(tmp_path, **common)).run()
    buggy = Runner("seed001_lab4_maxpool_softmax_nll", cfg(tmp_path, **common)).run()
    assert fixed["status"] == buggy["status"] == "ok"
    assert -1.0 <= buggy["train_loss"][-1] < 0  # the notebook's "loss: -1.0"
    assert fixed["test_accuracy"] > buggy["test_accuracy"] + 0.05, (
        fixed["test_accuracy"], buggy["test_accuracy"])
