"""The JSON the chat model is asked to return: sentences, each with its sources and verbatim quotes."""

from __future__ import annotations

from typing import Any

# What the model must return. Plain JSON Schema (not a pydantic class) so that any provider's structured
# output accepts it, and so that a reply that does not fit still reaches our lenient parser, not an error.
ANSWER_SCHEMA: dict[str, Any] = {
    "title": "grounded_answer",
    "description": "An answer to the question built only from the numbered sources, with verbatim quotes.",
    "type": "object",
    "properties": {
        "sentences": {
            "type": "array",
            "description": "The answer, one sentence per item; empty when the sources do not answer.",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "description": "One sentence, without citation markers."},
                    "citations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "source": {"type": "string", "description": "Source id, e.g. S1."},
                                "quote": {
                                    "type": "string",
                                    "description": "Words copied exactly from that source.",
                                },
                            },
                            "required": ["source", "quote"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["text", "citations"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["sentences"],
    "additionalProperties": False,
}
