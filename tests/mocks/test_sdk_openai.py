"""The official openai SDK against both mock servers: chat (create and the stream helper) with tool calls,
embeddings (the SDK's default base64 path), images, speech, transcription, models, Azure."""

from __future__ import annotations

import base64
import json

import httpx
import openai

from mocks.engine import HostedUpstream
from mocks.generate import embedding
from tests.mocks.conftest import OPENAI_TOOL

ASK_TOOL = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]


def test_chat_create_with_tool_call(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    completion = openai_client.chat.completions.create(model="gpt-4o", messages=ASK_TOOL, tools=[OPENAI_TOOL])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert set(args) == {"city", "unit"} and args["unit"] in ("c", "f")
    usage = completion.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert upstream.requests[0].json["tools"][0]["function"]["name"] == "get_weather"


def test_chat_stream_helper_assembles_tool_calls(openai_client: openai.OpenAI) -> None:
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=ASK_TOOL, tools=[OPENAI_TOOL], stream_options={"include_usage": True}
    ) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.done" in kinds
    call = final.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == json.loads(call.function.arguments)
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.total_tokens > 0


def test_streamed_and_plain_answers_agree(openai_client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Tell me about the forecast"}]
    plain = openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    chunks = list(openai_client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_parallel_tool_calls_when_two_tools_are_named(openai_client: openai.OpenAI) -> None:
    second = {"type": "function", "function": {**OPENAI_TOOL["function"], "name": "get_time"}}
    messages = [{"role": "user", "content": "Call get_time and then get_weather for Oslo"}]
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=messages, tools=[OPENAI_TOOL, second]
    ) as s:
        final = s.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time", "get_weather"]
    assert len({c.id for c in calls}) == 2


def test_embeddings_default_base64_path_gives_the_floats(
    openai_client: openai.OpenAI, upstream: HostedUpstream
) -> None:
    default = openai_client.embeddings.create(
        model="text-embedding-3-small", input=["alpha", "beta"], dimensions=16
    )
    floats = openai_client.embeddings.create(
        model="text-embedding-3-small", input=["alpha", "beta"], dimensions=16, encoding_format="float"
    )
    assert upstream.requests[0].json["encoding_format"] == "base64"  # what the SDK sent by default
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert default.data[0].embedding == embedding('text-embedding-3-small:"alpha"', 16)
    assert len(default.data[1].embedding) == 16


def test_image_generation_returns_a_png(openai_client: openai.OpenAI) -> None:
    result = openai_client.images.generate(model="gpt-image-1", prompt="a lighthouse", n=2)
    assert len(result.data) == 2
    png = base64.b64decode(result.data[0].b64_json)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in png
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


def test_speech_bytes_and_content_type(openai_client: openai.OpenAI) -> None:
    with openai_client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="hello there", response_format="wav"
    ) as response:
        assert response.headers["content-type"] == "audio/wav"
        audio = response.read()
    assert audio.startswith(b"RIFF") and audio[8:12] == b"WAVE"
    mp3 = openai_client.audio.speech.create(model="tts-1", voice="alloy", input="hi")
    assert mp3.response.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:2] == b"\xff\xfb"


def test_transcription_multipart(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    audio = b"RIFF" + bytes(2000)
    result = openai_client.audio.transcriptions.create(
        model="whisper-1", file=("clip.wav", audio, "audio/wav")
    )
    assert result.text
    again = openai_client.audio.transcriptions.create(
        model="whisper-1", file=("other-name.wav", audio, "audio/wav")
    )
    assert again.text == result.text  # the transcript depends on the audio bytes only
    text = openai_client.audio.transcriptions.create(
        model="whisper-1", file=("clip.wav", audio, "audio/wav"), response_format="text"
    )
    assert text.strip() == result.text
    assert upstream.requests[0].header("content-type").startswith("multipart/form-data; boundary=")


def test_models_list(openai_client: openai.OpenAI) -> None:
    assert "gpt-4o" in [m.id for m in openai_client.models.list()]


def test_azure_chat_with_content_filter_annotations(upstream: HostedUpstream) -> None:
    client = openai.AzureOpenAI(
        azure_endpoint=upstream.urls["azure"], api_key="azure-key", api_version="2024-10-21", max_retries=0
    )
    completion = client.chat.completions.create(model="my-deployment", messages=ASK_TOOL, tools=[OPENAI_TOOL])
    assert completion.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert (
        completion.model_extra["prompt_filter_results"][0]["content_filter_results"]["hate"]["filtered"]
        is False
    )
    with client.chat.completions.stream(
        model="my-deployment", messages=ASK_TOOL, tools=[OPENAI_TOOL]
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.parsed_arguments["unit"] in ("c", "f")
    seen = upstream.requests[0]
    assert seen.path == "/openai/deployments/my-deployment/chat/completions"
    assert seen.query["api-version"] == ["2024-10-21"]
    assert seen.header("api-key") == "<redacted:9 chars>"


def test_azure_requires_api_version(upstream: HostedUpstream) -> None:
    response = httpx.post(
        upstream.url + "/openai/deployments/d/chat/completions",
        headers={"api-key": "k"},
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}
