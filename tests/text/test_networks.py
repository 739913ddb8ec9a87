"""The text networks: sampling draws from the model's distribution, rollouts keep their prefix, the
policy gradient's log-probabilities agree with sampling, the relaxation is one-hot forward."""

import torch

from ganforge.text.networks import NEVER, TextDiscriminator, TextGenerator, draw, mask_after_end
from ganforge.text.tokenize import EOS, PAD


def test_draw_follows_the_probabilities_and_repeats_under_a_seed():
    probabilities = torch.tensor([[0.1, 0.0, 0.6, 0.3]]).repeat(20000, 1)
    tokens = draw(probabilities, torch.Generator().manual_seed(0))[:, 0]
    shares = torch.bincount(tokens, minlength=4).float() / len(tokens)
    assert torch.allclose(shares, probabilities[0], atol=0.015) and shares[1] == 0
    again = draw(probabilities, torch.Generator().manual_seed(0))[:, 0]
    assert torch.equal(tokens, again)


def test_rollouts_keep_their_prefix_and_end_properly():
    torch.manual_seed(0)
    generator = TextGenerator(12, 8, 16).eval()
    ids = generator.sample(50, 10, generator=torch.Generator().manual_seed(1))
    assert ids.shape == (50, 10) and not torch.isin(ids, torch.tensor(NEVER[1:])).any()
    rolled = generator.sample(50, 10, generator=torch.Generator().manual_seed(2), prefix=ids[:, :4])
    assert torch.equal(rolled[:, :4], ids[:, :4])
    for row in rolled.tolist():  # after the end token only padding
        if EOS in row:
            assert set(row[row.index(EOS) + 1:]) <= {PAD}


def test_log_probabilities_match_the_sampling_distribution():
    torch.manual_seed(0)
    generator = TextGenerator(6, 8, 16).eval()
    ids = generator.sample(4000, 1, generator=torch.Generator().manual_seed(3))
    log_p = generator.log_probabilities(ids)[:, 0]
    for token in ids.unique().tolist():
        share = (ids[:, 0] == token).float().mean()
        assert abs(share - log_p[ids[:, 0] == token][0].exp()) < 0.03


def test_relaxed_sequences_are_one_hot_forward_and_carry_gradients():
    torch.manual_seed(0)
    generator, discriminator = TextGenerator(10, 8, 16), TextDiscriminator(10, 8, 4)
    soft = mask_after_end(generator.relaxed(6, 7, tau=1.0, hard=True))
    assert soft.shape == (6, 7, 10) and set(soft.sum(dim=2).unique().tolist()) <= {0.0, 1.0}
    discriminator(soft).sum().backward()
    assert generator.cell.weight_ih_l0.grad is not None and generator.cell.weight_ih_l0.grad.abs().sum() > 0


def test_the_likelihood_loss_ignores_trailing_padding_and_batches_group_lengths():
    from ganforge.text.policy_gradient import mle_loss
    from ganforge.text.synthesizer import _length_batches

    torch.manual_seed(0)
    generator = TextGenerator(9, 8, 16).eval()
    lengths = torch.randint(1, 12, (40,))
    ids = torch.full((40, 20), PAD)
    for row, length in enumerate(lengths.tolist()):
        ids[row, :length] = torch.randint(4, 9, (length,))
        ids[row, length - 1] = EOS
    padded = torch.cat([ids, torch.full((40, 30), PAD)], dim=1)
    assert torch.allclose(mle_loss(generator, ids), mle_loss(generator, padded))
    batches = _length_batches(ids, 8)
    assert sorted(torch.cat(batches).tolist()) == list(range(40))  # every text once per epoch
    spans = [int(lengths[rows].max() - lengths[rows].min()) for rows in batches]
    assert sum(spans) < sum(int(lengths[rows].max() - lengths[rows].min()) for rows in torch.arange(40).split(8))


def test_the_adaptive_softmax_gives_a_distribution_and_its_fast_loss_is_the_exact_one():
    torch.manual_seed(0)
    generator = TextGenerator(30, 8, 16, clusters=(6, 14))
    ids = torch.randint(4, 30, (5, 9))
    ids[:, 6:] = PAD
    inputs = torch.cat([torch.full_like(ids[:, :1], 1), ids[:, :-1]], dim=1)
    log_p = generator(inputs)
    assert log_p.shape == (5, 9, 30) and torch.allclose(log_p.exp().sum(dim=-1), torch.ones(5, 9), atol=1e-5)
    exact = torch.nn.functional.cross_entropy(log_p.reshape(-1, 30), ids.reshape(-1), ignore_index=PAD)
    assert torch.allclose(generator.next_token_loss(inputs, ids), exact, atol=1e-5)
    texts = generator.eval().sample(20, 8, generator=torch.Generator().manual_seed(0))
    assert texts.shape == (20, 8) and not torch.isin(texts, torch.tensor(NEVER[1:])).any()
