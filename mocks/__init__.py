"""Scripted mock upstreams speaking the OpenAI, Anthropic, Gemini and Azure wire formats."""
