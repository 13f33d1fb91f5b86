"""Sampling explorer (notebook 07-applications): a character-level language model writes on.

Type a prompt, move the temperature, and the model continues the prompt; the figure shows
the distribution of the first character drawn, at temperature 1 and at the chosen one, so
that the effect of the temperature is visible before it shows in the text.

:func:`sample_view` is the pure computation; :class:`SamplerExplorer` wires it to ipywidgets
and draws with matplotlib's Agg backend into PNG bytes.
"""
import html
import io

import numpy as np
from matplotlib.figure import Figure

from ..sampling import lstm_lm_generate


def sample_view(params, vocab, prompt, length, temperature, top_k=None, seed=0):
    """Continue ``prompt`` and describe the first draw.

    Returns a dict: text (the ``length`` new characters), probs (V,) the distribution of
    the first new character at ``temperature``, base_probs (V,) the same at temperature 1,
    entropy_bits of probs, and the control values.
    """
    text, probs = lstm_lm_generate(params, vocab, prompt, length, temperature, top_k, rng=seed)
    if length:
        first = probs[0].astype(np.float64)
        # the logits of the first draw, recovered from the model to show temperature 1 as well
        _, base = lstm_lm_generate(params, vocab, prompt, 1, 1.0, None, rng=seed)
        base = base[0].astype(np.float64)
    else:
        first = base = np.zeros(len(vocab))
    nz = first[first > 0]
    return {"text": text, "probs": first, "base_probs": base,
            "entropy_bits": float(-(nz * np.log2(nz)).sum()),
            "prompt": prompt, "length": length, "temperature": temperature, "top_k": top_k, "seed": seed}


def _label(ch):
    return {"\n": "\\n", " ": "␣"}.get(ch, ch)


def draw(state, vocab, top=20):
    """A bar chart of the first draw's distribution; returns PNG bytes."""
    fig = Figure(figsize=(7.5, 2.6), dpi=80)
    ax = fig.add_subplot(1, 1, 1)
    probs, base = state["probs"], state["base_probs"]
    order = np.argsort(-np.maximum(probs, base), kind="stable")[:top]
    x = np.arange(len(order))
    ax.bar(x - 0.2, base[order], width=0.4, color="0.75", label="temperature 1")
    ax.bar(x + 0.2, probs[order], width=0.4, color="C0", label=f"temperature {state['temperature']:g}")
    ax.set_xticks(x)
    ax.set_xticklabels([_label(vocab.chars[i]) for i in order])
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title(f"next character after the prompt (entropy {state['entropy_bits']:.2f} bits)", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class SamplerExplorer:
    """ipywidgets explorer of temperature sampling; display ``explorer.widget``.

    params: the character model's parameters ("W_embed", "Wx", "Wh", "b", "W_out", "b_out");
    vocab: its :class:`rnnkit.data.CharVocab`.
    """

    def __init__(self, params, vocab, prompt="ROMEO.\n", length=200, temperature=0.7, seed=0):
        import ipywidgets as w

        self.params, self.vocab = params, vocab
        self.controls = {
            "prompt": w.Textarea(value=prompt, description="prompt", layout=w.Layout(width="60%", height="4em")),
            "temperature": w.FloatSlider(value=temperature, min=0.0, max=2.0, step=0.05, description="temperature",
                                         continuous_update=False),
            "top_k": w.IntSlider(value=0, min=0, max=len(vocab), description="top-k (0: all)",
                                 continuous_update=False),
            "length": w.IntSlider(value=length, min=0, max=1000, step=10, description="length",
                                  continuous_update=False),
            "seed": w.IntText(value=seed, description="seed"),
        }
        self.output = w.HTML()
        self.message = w.HTML()
        self.image = w.Image(format="png")
        self.png = b""
        self.state = {}
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.widget = w.VBox([w.HBox([self.controls["prompt"], w.VBox([self.controls["seed"]])]),
                              w.HBox([self.controls["temperature"], self.controls["top_k"], self.controls["length"]]),
                              self.message, self.image, self.output])
        self.update()

    def compute(self):
        """The state for the current control values (a pure function of them)."""
        c = {k: v.value for k, v in self.controls.items()}
        return sample_view(self.params, self.vocab, c["prompt"], int(c["length"]), float(c["temperature"]),
                           top_k=int(c["top_k"]) or None, seed=int(c["seed"]))

    def update(self, change=None):
        try:
            state = self.compute()
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            self.state = dict(self.state, error=str(exc))
            return
        self.message.value = ""
        self.state = state
        self.png = draw(state, self.vocab)
        self.image.value = self.png
        self.output.value = ("<pre style='white-space:pre-wrap'><b>" + html.escape(state["prompt"]) + "</b>"
                             + html.escape(state["text"]) + "</pre>")
