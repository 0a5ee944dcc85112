"""A pure-NumPy reference of the paper's sampler, written the way the authors' code runs it.

This is the speed baseline of the benchmark, not a sampler to use. It follows the structure of the authors'
public code (docs/METHOD.md, "Differences from the authors' code"): a one-hidden-layer sigmoid network held as
matrices, every quantity computed with a Python loop over the rows of the data, and (``per_weight=True``, the
default) the back-propagation update of each row applied one weight at a time in nested Python loops over the layer's
inputs and units, as the authors' ``BackwardPass`` does. ``per_weight=False`` applies each row's update as
one outer product instead: the same algorithm with the innermost loops vectorised, a stronger NumPy baseline.

- the "Langevin gradient" is one epoch of per-row stochastic back-propagation of the squared error
  (learning rate ``lr``), taken from the current point and again from the proposal (for the reverse move);
- the likelihood of a proposal is a per-row forward pass over the training rows; the test rows are
  predicted every iteration too (the authors record test predictions for every sample);
- proposal: with probability ``l_prob`` N(gradient point, step_w^2 I), else a random walk; eta = log tau^2
  moves by N(0, step_eta^2); Gaussian prior N(0, 25) on weights, InvGamma(nu1, nu2) on tau^2.

The MH proposal ratio uses the variance step_w^2 (the authors divide by step_w; see docs/METHOD.md) -- this changes no
cost. Output units: identity for regression (the model bayesprune samples), softmax for classification.
"""

from __future__ import annotations

import math
import time

import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class LoopNetwork:
    """One hidden layer, sigmoid units, per-row forward and backward passes."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, classification: bool, lr: float,
                 per_weight: bool = True):
        self.shape = (n_in, n_hidden, n_out)
        self.classification = classification
        self.lr = lr
        self.per_weight = per_weight
        self.W1 = np.zeros((n_in, n_hidden))
        self.B1 = np.zeros(n_hidden)
        self.W2 = np.zeros((n_hidden, n_out))
        self.B2 = np.zeros(n_out)
        self.hidden = np.zeros(n_hidden)
        self.out = np.zeros(n_out)

    @property
    def n_params(self) -> int:
        i, h, o = self.shape
        return i * h + h + h * o + o

    def decode(self, w: np.ndarray) -> None:
        i, h, o = self.shape
        a = i * h
        self.W1 = w[:a].reshape(i, h)
        self.B1 = w[a:a + h]
        self.W2 = w[a + h:a + h + h * o].reshape(h, o)
        self.B2 = w[a + h + h * o:]

    def encode(self) -> np.ndarray:
        return np.concatenate([self.W1.ravel(), self.B1, self.W2.ravel(), self.B2])

    def forward_row(self, x: np.ndarray) -> np.ndarray:
        self.hidden = _sigmoid(x.dot(self.W1) + self.B1)
        z = self.hidden.dot(self.W2) + self.B2
        if self.classification:
            e = np.exp(z - z.max())
            self.out = e / e.sum()
        else:
            self.out = z
        return self.out

    def backward_row(self, x: np.ndarray, target: np.ndarray) -> None:
        out_delta = target - self.out
        hid_delta = out_delta.dot(self.W2.T) * self.hidden * (1 - self.hidden)
        if self.per_weight:
            self._update_per_weight(x, out_delta, hid_delta)
            return
        self.W2 = self.W2 + self.lr * np.outer(self.hidden, out_delta)
        self.B2 = self.B2 + self.lr * out_delta
        self.W1 = self.W1 + self.lr * np.outer(x, hid_delta)
        self.B1 = self.B1 + self.lr * hid_delta

    def _update_per_weight(self, x: np.ndarray, out_delta: np.ndarray, hid_delta: np.ndarray) -> None:
        """The same update as the outer products, one weight per Python iteration (the authors' loops)."""
        n_in, n_hidden, n_out = self.shape
        for j in range(n_hidden):
            for k in range(n_out):
                self.W2[j, k] += self.lr * out_delta[k] * self.hidden[j]
        for k in range(n_out):
            self.B2[k] += self.lr * out_delta[k]
        for i in range(n_in):
            for j in range(n_hidden):
                self.W1[i, j] += self.lr * hid_delta[j] * x[i]
        for j in range(n_hidden):
            self.B1[j] += self.lr * hid_delta[j]

    def langevin_gradient(self, X: np.ndarray, T: np.ndarray, w: np.ndarray) -> np.ndarray:
        """One epoch of per-row SGD from ``w`` (the authors' 'Langevin gradient')."""
        self.decode(w.copy())  # the per-weight updates write into these views of the copy
        for row in range(X.shape[0]):
            self.forward_row(X[row])
            self.backward_row(X[row], T[row])
        return self.encode()

    def predict(self, X: np.ndarray, w: np.ndarray) -> np.ndarray:
        self.decode(w)
        out = np.zeros((X.shape[0], self.shape[2]))
        for row in range(X.shape[0]):
            out[row] = self.forward_row(X[row])
        return out


class LoopLGMH:
    """The paper's LG-MH loop over one chain, one sample per Python iteration."""

    def __init__(self, X_train, y_train, X_test, y_test, hidden: int, classification: bool, *, lr=0.01,
                 step_w=0.025, step_eta=0.2, l_prob=0.5, prior_var=25.0, nu1=0.0, nu2=0.0, seed=0,
                 per_weight=True):
        self.X, self.Xt = np.asarray(X_train, float), np.asarray(X_test, float)
        self.classification = classification
        n_out = int(max(y_train.max(), y_test.max()) + 1) if classification else 1
        self.y, self.yt = np.asarray(y_train), np.asarray(y_test)
        self.T = np.eye(n_out)[self.y] if classification else self.y.reshape(-1, 1).astype(float)
        self.net = LoopNetwork(self.X.shape[1], hidden, n_out, classification, lr, per_weight)
        self.step_w, self.step_eta, self.l_prob = step_w, step_eta, l_prob
        self.prior_var, self.nu1, self.nu2 = prior_var, nu1, nu2
        self.rng = np.random.default_rng(seed)

    def log_likelihood(self, X, y, w, tau2) -> tuple[float, np.ndarray]:
        out = self.net.predict(X, w)
        if self.classification:
            p = out[np.arange(len(y)), y]
            return float(np.sum(np.log(np.maximum(p, 1e-300)))), out
        resid = y - out[:, 0]
        return float(-0.5 * len(y) * math.log(2 * math.pi * tau2) - 0.5 * np.sum(resid ** 2) / tau2), out

    def log_prior(self, w, tau2) -> float:
        lp = -0.5 * w.size * math.log(2 * math.pi * self.prior_var) - 0.5 * float(np.sum(w ** 2)) / self.prior_var
        if not self.classification:
            lp += -(1 + self.nu1) * math.log(tau2) - self.nu2 / tau2
        return lp

    def run(self, num_samples: int, max_seconds: float | None = None) -> dict:
        """Sample; stop early after ``max_seconds`` (the rate is what the benchmark needs)."""
        w = self.rng.normal(0, 0.1, self.net.n_params)
        eta = 0.0 if self.classification else math.log(max(np.var(self.y - 0.0), 1e-6))
        ll, _ = self.log_likelihood(self.X, self.y, w, math.exp(eta))
        lp = self.log_prior(w, math.exp(eta))
        accepted = 0
        t0 = time.perf_counter()
        done = 0
        for _ in range(num_samples):
            if self.rng.uniform() < self.l_prob:
                w_gd = self.net.langevin_gradient(self.X, self.T, w)
                w_prop = self.rng.normal(w_gd, self.step_w)
                w_prop_gd = self.net.langevin_gradient(self.X, self.T, w_prop)
                back = -0.5 * np.sum((w - w_prop_gd) ** 2) / self.step_w ** 2
                fwd = -0.5 * np.sum((w_prop - w_gd) ** 2) / self.step_w ** 2
                log_q = back - fwd
            else:
                w_prop = self.rng.normal(w, self.step_w)
                log_q = 0.0
            eta_prop = eta + (0.0 if self.classification else self.rng.normal(0, self.step_eta))
            tau2 = math.exp(eta_prop)
            ll_prop, _ = self.log_likelihood(self.X, self.y, w_prop, tau2)
            self.log_likelihood(self.Xt, self.yt, w_prop, tau2)  # test predictions, as the authors record
            lp_prop = self.log_prior(w_prop, tau2)
            log_alpha = ll_prop + lp_prop - ll - lp + log_q
            if math.log(max(self.rng.uniform(), 1e-300)) < min(0.0, log_alpha):
                w, eta, ll, lp = w_prop, eta_prop, ll_prop, lp_prop
                accepted += 1
            done += 1
            if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                break
        seconds = time.perf_counter() - t0
        return {"samples": done, "seconds": seconds, "samples_per_s": done / seconds,
                "acceptance": accepted / max(done, 1)}
