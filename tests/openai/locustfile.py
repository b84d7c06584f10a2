"""Locust users for MockServe's OpenAI-compatible HTTP face: each posts streamed chat completions and reads the
server-sent events to data: [DONE]. A request fails unless it answers 200 and its stream ends with [DONE] after
at least one content chunk and the usage chunk.

    locust -f tests/openai/locustfile.py --headless -u 4 -r 4 -t 10s --host http://127.0.0.1:8000 --only-summary

Written for Debian's python3-locust (2.12); MAX_TOKENS and the think time come from the environment.
"""

import json
import os

from locust import HttpUser, between, task

MAX_TOKENS = int(os.environ.get("MOCKSERVE_MAX_TOKENS", "20"))


class ChatUser(HttpUser):
    wait_time = between(0.05, 0.2)

    @task
    def streamed_chat(self):
        body = {
            "model": os.environ.get("MOCKSERVE_MODEL", "yi-34b"),
            "messages": [{"role": "user", "content": "Tell me a story"}],
            "max_tokens": MAX_TOKENS,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        with self.client.post("/v1/chat/completions", json=body, stream=True, catch_response=True,
                              name="POST /v1/chat/completions (stream)", timeout=30) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            content, usage, done = 0, None, False
            for line in response.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data: "):
                    continue
                data = line[len("data: "):]
                if data == "[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if chunk.get("choices"):
                    content += 1
                if chunk.get("usage"):
                    usage = chunk["usage"]
            if not done or content == 0 or usage is None:
                response.failure(f"stream ended without content, usage and [DONE] ({content} chunks, usage {usage})")
            elif usage.get("completion_tokens") != MAX_TOKENS:
                response.failure(f"completion_tokens {usage.get('completion_tokens')}, expected {MAX_TOKENS}")
            else:
                response.success()
