"""The reader's network in PyTorch: the encoder (with LoRA adapters while training, merged
into it for export) and two heads. Only training and the one-time ONNX export import this."""

from typing import Any

import torch


class ReaderNet(torch.nn.Module):
    """Encoder → (answer logit from the mean of the tokens, start and end logits per token)."""

    def __init__(self, encoder: Any, hidden: int = 384) -> None:
        super().__init__()
        self.encoder = encoder
        self.answer = torch.nn.Linear(hidden, 1)
        self.span = torch.nn.Linear(hidden, 2)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        span = self.span(hidden)
        return self.answer(pooled).squeeze(-1), span[..., 0], span[..., 1]

    def heads(self) -> dict[str, torch.Tensor]:
        """The heads' weights, as `HEADS_FILE` stores them."""
        return {
            **{f"answer.{k}": v for k, v in self.answer.state_dict().items()},
            **{f"span.{k}": v for k, v in self.span.state_dict().items()},
        }

    def load_heads(self, weights: dict[str, torch.Tensor]) -> None:
        for name, module in (("answer", self.answer), ("span", self.span)):
            module.load_state_dict(
                {k.split(".", 1)[1]: v for k, v in weights.items() if k.startswith(f"{name}.")}
            )
