"""Recurrent layers as one op per layer and direction: backprop through time inside the op.

``Recurrent`` runs a whole sequence: the input projection of every time step is one GEMM before
the loop, each step is one GEMM with the recurrent weights plus the gate math, and backward walks
the steps in reverse accumulating the gate gradients, then makes the weight and input gradients
with one GEMM each. The graph has one node per layer whatever the sequence length.

Variable lengths (packed sequences) come as ``lengths`` (N,): row i is updated at steps t <
lengths[i] only; elsewhere its state passes through unchanged and its output is 0, which serves
both directions (the reverse direction starts each row at its own last step).

Modes and gate layouts are torch's: RNN_TANH/RNN_RELU h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh);
LSTM gates (i, f, g, o), c' = f c + i g, h' = o tanh(c') (then h' W_hr^T with a projection);
GRU gates (r, z, n), n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h.
"""
import numpy as np

from ..backend import compiled
from .registry import Op


def seq_kernels(x, least=4096):
    """``backend.seq_kernels`` (numba) for a float32 CPU array of ``least`` elements or more, else None."""
    if type(x) is not np.ndarray or x.dtype != np.float32 or x.size < least or not compiled.enabled():
        return None
    from ..backend import seq_kernels as kernels   # numba: imported only here
    return kernels


def _sigmoid_(xp, v):
    """The logistic of a view, in place (no temporaries: this runs per gate per time step)."""
    v *= 0.5
    xp.tanh(v, out=v)
    v += 1
    v *= 0.5


class Recurrent(Op):
    """out = [y (T, N, H_out); h_T; c_T] flattened: y_t = h_t of the recurrence (see the module);
    the gradients flow back through time: dh_{t-1} = dA_t W_hh (+ pass-through where masked)."""
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, lengths):
        t_len, n, _ = x.shape
        hidden = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
        steps = range(t_len - 1, -1, -1) if reverse else range(t_len)
        h, c = h0, c0
        y = xp.empty((t_len, n, h0.shape[1]), dtype=x.dtype)
        hs = xp.empty((t_len, n, h0.shape[1]), dtype=x.dtype)   # the state each step read
        acts = xp.empty((t_len, n, w_ih.shape[0]), dtype=x.dtype)
        cs = xp.empty((t_len, n, hidden), dtype=x.dtype) if mode == "LSTM" else None
        extra = xp.empty((t_len, n, hidden), dtype=x.dtype) if mode in ("GRU", "LSTM") else None
        w_t = w_hh.T.copy()   # a contiguous W_hh^T (own copy: scaled below) makes the per-step GEMM faster
        w_in, bias = w_ih, b_ih
        if b_hh is not None and mode != "GRU":
            bias = b_hh if bias is None else bias + b_hh
        kern = seq_kernels(x, 0) if mode == "LSTM" and lengths is None and w_hr is None else None
        if mode == "LSTM" and not kern:   # sigmoid(v) = tanh(v / 2) / 2 + 1/2: halve the i, f, o pre-activations up front (exact)
            sig = (slice(0, 2 * hidden), slice(3 * hidden, 4 * hidden))
            scale = xp.ones(w_ih.shape[0], dtype=x.dtype)
            for k in sig:
                scale[k] = 0.5
            w_t *= scale
            w_in = w_ih * scale[:, None]
            bias = None if bias is None else bias * scale
            tmp = xp.empty((n, hidden), dtype=x.dtype)
        elif mode == "GRU":
            tmp = xp.empty((n, 3 * hidden), dtype=x.dtype)
        gx = xp.matmul(x.reshape(t_len * n, x.shape[2]), w_in.T).reshape(t_len, n, w_ih.shape[0])
        if bias is not None:
            gx += bias
        for t in steps:
            hs[t] = h
            if kern:   # the cell in one numba call: gates in acts[t], h_t in y[t]
                cs[t] = c
                h_new, c_new = y[t], xp.empty_like(c)   # (y[t] = h_new below copies onto itself)
                kern.lstm_step(xp.matmul(h, w_t, out=acts[t]), gx[t], c, c_new, extra[t], h_new)
            elif mode == "LSTM":   # gates computed in place in acts[t]
                cs[t] = c
                a = acts[t]
                xp.matmul(h, w_t, out=a)
                a += gx[t]
                xp.tanh(a, out=a)
                for k in sig:
                    a[:, k] *= 0.5
                    a[:, k] += 0.5
                c_new = xp.multiply(a[:, hidden:2 * hidden], c)
                c_new += xp.multiply(a[:, :hidden], a[:, 2 * hidden:3 * hidden], out=tmp)
                tc = xp.tanh(c_new, out=extra[t])
                h_new = xp.multiply(a[:, 3 * hidden:], tc)
                if w_hr is not None:
                    h_new = xp.matmul(h_new, w_hr.T)
            elif mode == "GRU":   # gates (r, z, n) computed in place in acts[t]
                a, act, ghn = gx[t], acts[t], extra[t]
                gh = xp.matmul(h, w_t, out=tmp)
                if b_hh is not None:
                    gh += b_hh
                xp.add(a[:, :2 * hidden], gh[:, :2 * hidden], out=act[:, :2 * hidden])
                _sigmoid_(xp, act[:, :2 * hidden])
                ghn[...] = gh[:, 2 * hidden:]
                nn_ = xp.multiply(act[:, :hidden], ghn, out=act[:, 2 * hidden:])
                nn_ += a[:, 2 * hidden:]
                xp.tanh(nn_, out=nn_)
                h_new = xp.subtract(h, nn_)   # h' = n + z (h - n), as torch
                h_new *= act[:, hidden:2 * hidden]
                h_new += nn_
            else:
                a = gx[t] + xp.matmul(h, w_t)
                h_new = acts[t] = xp.tanh(a) if mode == "RNN_TANH" else xp.maximum(a, 0)
            if lengths is not None:
                live = (t < lengths)[:, None]
                h_new = xp.where(live, h_new, h)
                if mode == "LSTM":
                    c_new = xp.where(live, c_new, c)
                y[t] = xp.where(live, h_new, 0)
            else:
                y[t] = h_new
            h = h_new
            if mode == "LSTM":
                c = c_new
        ctx.saved = (x, hs, cs, acts, extra, w_ih, w_hh, w_hr, mode, reverse, lengths)
        parts = [y.reshape(-1), h.reshape(-1)] + ([c.reshape(-1)] if mode == "LSTM" else [])
        return xp.concatenate(parts)

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        x, hs, cs, acts, extra, w_ih, w_hh, w_hr, mode, reverse, lengths = ctx.saved
        t_len, n, _ = x.shape
        h_out = hs.shape[2]
        hidden = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
        gy = g[:t_len * n * h_out].reshape(t_len, n, h_out)
        dh = g[t_len * n * h_out:(t_len + 1) * n * h_out].reshape(n, h_out).copy()
        dc = g[(t_len + 1) * n * h_out:].reshape(n, hidden).copy() if mode == "LSTM" else None
        da = xp.empty(acts.shape, dtype=g.dtype)       # gradient of the gate pre-activations (every step writes)
        dghn = xp.empty((t_len, n, hidden), dtype=g.dtype) if mode == "GRU" else None
        dw_hr = xp.zeros(w_hr.shape, dtype=g.dtype) if w_hr is not None else None
        steps = range(t_len) if reverse else range(t_len - 1, -1, -1)
        if mode == "LSTM":
            sig = (slice(0, 2 * hidden), slice(3 * hidden, 4 * hidden))
            tmp, der = xp.empty((n, hidden), dtype=g.dtype), xp.empty((n, 4 * hidden), dtype=g.dtype)
        elif mode == "GRU":
            tmp, dgh = xp.empty((n, hidden), dtype=g.dtype), xp.empty((n, 3 * hidden), dtype=g.dtype)
        kern = seq_kernels(x, 0) if mode == "LSTM" and lengths is None and w_hr is None else None
        for t in steps:
            if kern:   # the cell's backward in one numba call, then dh_{t-1} = da_t W_hh
                kern.lstm_step_backward(dh, gy[t], dc, acts[t], extra[t], cs[t], da[t])
                xp.matmul(da[t], w_hh, out=dh)
                continue
            live = None if lengths is None else (t < lengths)[:, None]
            dh_t = dh + gy[t] if live is None else dh + xp.where(live, gy[t], 0)
            a = acts[t]
            if mode == "LSTM":
                i, f, gg, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
                tc = extra[t]
                if w_hr is not None:
                    dw_hr += xp.matmul((dh_t if live is None else xp.where(live, dh_t, 0)).T, o * tc)
                    dh_u = xp.matmul(dh_t, w_hr)
                else:
                    dh_u = dh_t
                xp.multiply(tc, tc, out=tmp)                 # dc_t = dc + dh o (1 - tanh(c)^2)
                xp.subtract(1, tmp, out=tmp)
                tmp *= o
                tmp *= dh_u
                dc_t = tmp
                dc_t += dc
                d = da[t]
                xp.multiply(dc_t, gg, out=d[:, :hidden])
                xp.multiply(dc_t, cs[t], out=d[:, hidden:2 * hidden])
                xp.multiply(dc_t, i, out=d[:, 2 * hidden:3 * hidden])
                xp.multiply(dh_u, tc, out=d[:, 3 * hidden:])
                xp.multiply(a, a, out=der)                   # s (1 - s) for i, f, o; 1 - g^2 for g
                for k in sig:
                    xp.subtract(a[:, k], der[:, k], out=der[:, k])
                xp.subtract(1, der[:, 2 * hidden:3 * hidden], out=der[:, 2 * hidden:3 * hidden])
                d *= der
                dc_prev = xp.multiply(dc_t, f, out=dc if live is None else None)
            elif mode == "GRU":   # da[t] = (dr, dz, dn); dgh = (dr, dz, dn r), the gradient of h W_hh^T + b_hh
                r, z, nn_ = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
                d = da[t]
                dr, dz, dn = d[:, :hidden], d[:, hidden:2 * hidden], d[:, 2 * hidden:]
                xp.multiply(nn_, nn_, out=dn)                # dn = dh (1 - z) (1 - n^2)
                xp.subtract(1, dn, out=dn)
                dn *= dh_t
                xp.subtract(1, z, out=tmp)
                dn *= tmp
                tmp *= z                                     # dz = dh (h - n) z (1 - z)
                xp.subtract(hs[t], nn_, out=dz)
                dz *= dh_t
                dz *= tmp
                xp.subtract(1, r, out=dr)                    # dr = dn ghn r (1 - r)
                dr *= r
                dr *= extra[t]
                dr *= dn
                dgh[:, :2 * hidden] = d[:, :2 * hidden]
                xp.multiply(dn, r, out=dgh[:, 2 * hidden:])
            else:
                d = dh_t * (1 - a * a) if mode == "RNN_TANH" else dh_t * (a > 0)
            if live is not None:
                da[t] = xp.where(live, d, 0)
            elif mode not in ("LSTM", "GRU"):   # those wrote da[t] in place
                da[t] = d
            if mode == "GRU":
                if live is not None:
                    dgh = xp.where(live, dgh, 0)
                dghn[t] = dgh[:, 2 * hidden:]
                dh_prev = xp.matmul(dgh, w_hh) + dh_t * z
                dh = dh_prev if live is None else xp.where(live, dh_prev, dh_t)
            else:
                dh_prev = xp.matmul(d, w_hh)
                dh = dh_prev if live is None else xp.where(live, dh_prev, dh_t)
            if mode == "LSTM":
                dc = dc_prev if live is None else xp.where(live, dc_prev, dc)
        flat_x = x.reshape(t_len * n, x.shape[2])
        flat_da = da.reshape(t_len * n, da.shape[2])
        needs = ctx.needs
        dx = xp.matmul(flat_da, w_ih).reshape(t_len, n, w_ih.shape[1]) if needs[0] else None
        dw_ih = xp.matmul(flat_da.T, flat_x) if needs[3] else None
        db_ih = flat_da.sum(axis=0) if len(needs) > 5 and needs[5] else None
        flat_h = hs.reshape(t_len * n, h_out)
        if mode == "GRU":   # the recurrent GEMM saw (dr, dz, dn r); b_hh too
            dgh_all = xp.concatenate([flat_da[:, :2 * hidden], dghn.reshape(t_len * n, hidden)], axis=1)
            dw_hh = xp.matmul(dgh_all.T, flat_h) if needs[4] else None
            db_hh = dgh_all.sum(axis=0) if len(needs) > 6 and needs[6] else None
        else:   # b_hh's gradient is b_ih's
            dw_hh = xp.matmul(flat_da.T, flat_h) if needs[4] else None
            db_hh = (flat_da.sum(axis=0) if db_ih is None else db_ih.copy()) if len(needs) > 6 and needs[6] else None
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, dw_hr


def recurrent_sizes(mode, t_len, n, h_out, hidden):
    """Where y, h_T and c_T sit in Recurrent's flat output."""
    y = t_len * n * h_out
    return y, y + n * h_out, y + n * h_out + (n * hidden if mode == "LSTM" else 0)


__all__ = ["Recurrent", "recurrent_sizes"]
