"""`bankbot tune --soup N` saves the element-wise mean of its runs' weights."""

import torch

from bot.search.tune import average_weights


def test_average_weights_means_float_tensors_and_keeps_integer_buffers() -> None:
    first = {"weight": torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "ids": torch.tensor([0, 1, 2])}
    second = {"weight": torch.tensor([[3.0, 2.0], [-3.0, 0.0]]), "ids": torch.tensor([0, 1, 2])}
    third = {"weight": torch.tensor([[2.0, 5.0], [0.0, 2.0]]), "ids": torch.tensor([0, 1, 2])}

    averaged = average_weights([first, second, third])

    assert torch.equal(averaged["weight"], torch.tensor([[2.0, 3.0], [0.0, 2.0]]))
    assert averaged["weight"].dtype == torch.float32
    assert torch.equal(averaged["ids"], torch.tensor([0, 1, 2]))


def test_a_soup_of_one_is_the_run_itself() -> None:
    only = {"weight": torch.tensor([0.1, 0.7, -0.3])}
    assert torch.equal(average_weights([only])["weight"], only["weight"])
