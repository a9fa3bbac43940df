"""A bare Flask app: the baseline bench/pages.py compares throughput with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello"
