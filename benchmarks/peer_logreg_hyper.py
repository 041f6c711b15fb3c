#!/usr/bin/python3
"""The peer of bilevelbench's AID and ITD hypergradients on logreg_hyper, written the way a
PyTorch user would: the losses as tensor expressions, every derivative by autograd (gradient
steps, Hessian-vector products by double backward, ITD by differentiating through the unrolled
steps), float64 on the CPU with a given number of threads.

The instance is logreg_hyper's (docs/problems.md): the first N_train Fashion-MNIST training
images as the training split, the next N_val as validation, pixels / 255 plus a bias feature,
y the 785 x 10 weights (feature-major), x one log-regularisation per pixel,
  g(x, y) = CE_train(y) + sum_j exp(x_j) ||y_j||^2,   f(x, y) = CE_val(y).
Both hypergradients start from y = 0 at x = x0, as bilevelbench's first hypergradient does:
  aid: T gradient steps, CG on grad^2_yy g v = grad_y f (at most K steps, relative tolerance
       rtol on the residual, from v = 0), then -grad^2_xy g v;
  itd: T gradient steps recorded by autograd, the hypergradient the derivative of f(x, y_T).

Writes the hypergradient (.npy) and prints one JSON line with the seconds of each repetition.
Needs python3-torch (scripts/install-peer-deps); never used by the tests.
"""
import argparse
import gzip
import json
import pathlib
import time

import numpy as np
import torch

PIXELS, CLASSES = 784, 10


def read_idx(path, first, count, item_bytes):
    """count items of item_bytes bytes from an IDX file, starting at item `first`."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    header = 4 + 4 * dims
    start = header + first * item_bytes
    return np.frombuffer(data, dtype=np.uint8, count=count * item_bytes, offset=start)


def load_split(directory, first, count):
    directory = pathlib.Path(directory)
    pixels = read_idx(directory / "train-images-idx3-ubyte.gz", first, count, PIXELS)
    labels = read_idx(directory / "train-labels-idx1-ubyte.gz", first, count, 1)
    features = np.ones((count, PIXELS + 1))
    features[:, :PIXELS] = pixels.reshape(count, PIXELS) / 255.0
    return torch.from_numpy(features), torch.from_numpy(labels.astype(np.int64))


def cross_entropy(features, labels, y):
    return torch.nn.functional.cross_entropy(features @ y, labels, reduction="mean")


def lower(x, y, train):
    penalty = (torch.exp(x)[:, None] * y[:PIXELS] ** 2).sum()
    return cross_entropy(*train, y) + penalty


def inner_steps(x, train, steps, eta, create_graph):
    y = torch.zeros(PIXELS + 1, CLASSES, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        (gy,) = torch.autograd.grad(lower(x, y, train), y, create_graph=create_graph)
        y = y - eta * gy
        if not create_graph:
            y = y.detach().requires_grad_(True)
    return y


def aid(x, train, validation, steps, eta, cg_steps, rtol):
    y = inner_steps(x.detach(), train, steps, eta, False)
    (rhs,) = torch.autograd.grad(cross_entropy(*validation, y), y)
    (gy,) = torch.autograd.grad(lower(x, y, train), y, create_graph=True)

    def hvp(v):
        (out,) = torch.autograd.grad(gy, y, v, retain_graph=True)
        return out

    # Conjugate gradients from v = 0, stopping as PETSc's KSPCG does: ||r|| <= rtol ||b||.
    v = torch.zeros_like(rhs)
    r = rhs.clone()
    p = r.clone()
    rr = (r * r).sum()
    bound = rtol * rtol * rr
    for _ in range(cg_steps):
        if rr <= bound:
            break
        hp = hvp(p)
        alpha = rr / (p * hp).sum()
        v = v + alpha * p
        r = r - alpha * hp
        rr_next = (r * r).sum()
        p = r + (rr_next / rr) * p
        rr = rr_next
    (cross,) = torch.autograd.grad(gy, x, v)
    return -cross  # grad_x f = 0: f does not depend on x


def itd(x, train, validation, steps, eta):
    y = inner_steps(x, train, steps, eta, True)
    (grad,) = torch.autograd.grad(cross_entropy(*validation, y), x)
    return grad


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=["aid", "itd"], required=True)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--val", type=int, default=5000)
    parser.add_argument("--x0", type=float, default=-6.0)
    parser.add_argument("--steps", type=int, default=100, help="inner gradient steps T")
    parser.add_argument("--eta", type=float, required=True, help="inner step size")
    parser.add_argument("--cg-steps", type=int, default=50)
    parser.add_argument("--cg-rtol", type=float, default=1e-10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--output", required=True, help="hypergradient .npy")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    train = load_split(args.data_dir, 0, args.train)
    validation = load_split(args.data_dir, args.train, args.val)
    seconds = []
    for _ in range(args.repetitions):
        x = torch.full((PIXELS,), args.x0, dtype=torch.float64, requires_grad=True)
        start = time.perf_counter()
        if args.method == "aid":
            grad = aid(x, train, validation, args.steps, args.eta, args.cg_steps, args.cg_rtol)
        else:
            grad = itd(x, train, validation, args.steps, args.eta)
        seconds.append(time.perf_counter() - start)
    np.save(args.output, grad.detach().numpy())
    print(json.dumps({"method": args.method, "threads": args.threads, "seconds": seconds,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
