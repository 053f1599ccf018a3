"""Rewire's permutation math (rewire.md §7 tests 1-5) on small deterministic tensors."""
import torch
import torch.nn.functional as F

from plasticbench.methods.rewire_permutation import (aligned_snapshot, alignment_penalty, fold_adapters,
                                                     gather_wiring, hard_permutation, identity_scores, inverse,
                                                     permute_rows, rank_normalized, scores_from_wiring, softsort,
                                                     softsort_st, straight_through_permute, times_k)


def distinct_scores(n=6, seeds=2):
    return torch.randn(seeds, n, generator=torch.Generator().manual_seed(3))


def test_softsort_rows_are_stochastic_and_peak_at_the_argsort():
    v = distinct_scores()
    soft = softsort(v, tau=0.5)
    torch.testing.assert_close(soft.sum(-1), torch.ones(2, 6), atol=1e-6, rtol=0)
    assert torch.equal(soft.argmax(-1), torch.argsort(v, dim=-1))
    hard = hard_permutation(v)
    assert torch.equal(hard.sum(-1), torch.ones(2, 6)) and torch.equal(hard.sum(-2), torch.ones(2, 6))
    u = torch.randn(2, 4, 6)
    expected = torch.stack([u[s][:, torch.argsort(v[s])] for s in range(2)])
    assert torch.equal(permute_rows(u, hard), expected) and torch.equal(gather_wiring(u, torch.argsort(v, -1)), expected)


def test_straight_through_forward_is_the_hard_matrix_and_its_gradient_the_soft_one():
    v = distinct_scores().requires_grad_(True)
    u = torch.randn(2, 4, 6)
    st = softsort_st(v, tau=0.5)
    assert torch.equal(st, hard_permutation(v.detach()))
    assert torch.equal(permute_rows(u, st), gather_wiring(u, torch.argsort(v.detach(), -1)))
    (grad_st,) = torch.autograd.grad(permute_rows(u, st).sum(), v)
    w = v.detach().clone().requires_grad_(True)
    (grad_soft,) = torch.autograd.grad(permute_rows(u, softsort(w, tau=0.5)).sum(), w)
    torch.testing.assert_close(grad_st, grad_soft)
    assert grad_st.abs().sum() > 0


def test_straight_through_gathers_equal_the_matrix_form_bit_for_bit():
    """The gathers replace two products of the hard matrix: same output, same gradients to the
    pre-activations and to the scores (through the xK trick), at the network's width and with ties."""
    g = torch.Generator().manual_seed(11)
    for seeds, batch, n in ((1, 256, 256), (3, 5, 7)):
        base = torch.randn(seeds, n, generator=g)
        if n == 7:
            base[:, 3] = base[:, 5]  # a tie: the stable argsort decides it the same way in both
        upstream = torch.randn(seeds, batch, n, generator=g)
        results = []
        for permute in (lambda u, v: permute_rows(u, softsort_st(v, 0.7)), lambda u, v: straight_through_permute(u, v, 0.7)):
            u = torch.randn(seeds, batch, n, generator=torch.Generator().manual_seed(5)).requires_grad_(True)
            scores = base.clone().requires_grad_(True)
            out = permute(u, times_k(scores, 3))
            grad_u, grad_scores = torch.autograd.grad((out * upstream).sum(), (u, scores))
            results.append((out.detach(), grad_u, grad_scores))
        for matrix, gathered in zip(*results):
            assert torch.equal(matrix, gathered)
        assert results[0][2].abs().sum() > 0


def test_times_k_keeps_the_value_and_multiplies_the_gradient_by_k():
    v = distinct_scores().requires_grad_(True)
    weights = torch.randn(2, 6)
    assert torch.equal(times_k(v, 3), v)
    (plain,) = torch.autograd.grad((softsort(v, 0.3) * weights[:, None]).sum(), v)
    (tripled,) = torch.autograd.grad((softsort(times_k(v, 3), 0.3) * weights[:, None]).sum(), v)
    torch.testing.assert_close(tripled, 3 * plain)


def test_identity_scores_rank_normalization_and_wirings_round_trip():
    assert torch.equal(torch.argsort(identity_scores(2, 5), -1), torch.arange(5).expand(2, 5))
    v = distinct_scores()
    ranked = rank_normalized(v)
    assert torch.equal(torch.argsort(ranked, -1), torch.argsort(v, -1))
    assert sorted(ranked[0].tolist()) == torch.linspace(0, 1, 6).tolist()
    wiring = torch.argsort(v, -1)
    assert torch.equal(torch.argsort(scores_from_wiring(wiring), -1), wiring)
    assert torch.equal(inverse(wiring).gather(-1, wiring), torch.arange(6).expand(2, 6))


def _forward(x, layers, wirings, head):
    """float64 reference: h_l = lrelu((h W_l + b_l)[..., c_l]); y = h W_head + b_head, one seed."""
    h = x
    for (w, b), c in zip(layers, wirings):
        h = F.leaky_relu((h @ w + b)[..., c], 0.2)
    return h @ head[0] + head[1]


def test_folding_the_adapters_reproduces_every_old_task_with_the_aligned_weights():
    """rewire.md §7 test 5 (paper notation W[out, in]; stored here as W^T [in, out])."""
    g = torch.Generator().manual_seed(5)
    rand = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)
    perm = lambda n: torch.randperm(n, generator=g)
    w1, b1, w2, b2, head = rand(4, 7), rand(7), rand(7, 6), rand(6), (rand(6, 3), rand(3))  # W̄^T, b̄
    c1, c2 = perm(7), perm(6)
    pi1, rho, pi2 = perm(7), perm(7), perm(6)
    new_w1, new_b1 = w1[:, pi1], b1[pi1]  # W_1 = W̄_1[pi1, :]
    new_w2, new_b2 = w2[rho][:, pi2], b2[pi2]  # W_2 = W̄_2[pi2, :][:, rho]
    a1_out = scores_from_wiring(inverse(pi1)[None]).double()  # argsort(a_1^out) = pi1^-1
    a2_out = scores_from_wiring(inverse(pi2)[None]).double()
    a2_in = scores_from_wiring(inverse(rho)[None]).double()
    # (i) the aligned snapshot is exactly the new weights, so L_SP = 0; [C]'s form drops ||T||^2
    for w, b, new_w, new_b, out_a, in_a in ((w1, b1, new_w1, new_b1, a1_out, None), (w2, b2, new_w2, new_b2, a2_out, a2_in)):
        target = aligned_snapshot(w[None], b[None, None], softsort_st(out_a, 0.1),
                                  None if in_a is None else softsort_st(in_a, 0.1))
        assert torch.equal(target[0][0], new_w) and torch.equal(target[1][0, 0], new_b)
        full = alignment_penalty(new_w[None], new_b[None, None], *target) + sum(t.pow(2).sum() for t in target)
        assert full.item() == 0.0
    # (ii) folded cached wirings answer exactly as the old ones did with the old weights
    f1 = fold_adapters(c1[None, None], a1_out, a2_in)[0, 0]
    f2 = fold_adapters(c2[None, None], a2_out, None)[0, 0]
    x = rand(9, 4)
    old = _forward(x, [(w1, b1), (w2, b2)], [c1, c2], head)
    new = _forward(x, [(new_w1, new_b1), (new_w2, new_b2)], [f1, f2], head)
    assert (old - new).abs().max().item() < 1e-12
