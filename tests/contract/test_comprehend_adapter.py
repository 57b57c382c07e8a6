"""The Comprehend sentiment adapter against botocore: each request validated against Comprehend's own API model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from socialdesk.aws.comprehend import MAX_BYTES, ComprehendSentiment
from socialdesk.classify import Classifier
from socialdesk.classify.sentiment import Sentiment
from socialdesk.rules import ClassificationRules
from tests.support.events import sample_event

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def comprehend() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "comprehend", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x", config=Config(retries={"max_attempts": 0})
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_detect_sentiment_sends_the_text_in_its_language_and_reads_the_answer(comprehend: tuple[Any, Stubber]) -> None:
    client, stubber = comprehend
    stubber.add_response(
        "detect_sentiment",
        {"Sentiment": "NEGATIVE", "SentimentScore": {"Positive": 0.01, "Negative": 0.97, "Neutral": 0.02, "Mixed": 0.0}},
        {"Text": "배송이 안 와요", "LanguageCode": "ko"},
    )
    assert ComprehendSentiment(lambda: client).detect("배송이 안 와요", "ko") == Sentiment("negative", -0.96)


def test_long_text_is_cut_to_comprehends_5000_bytes_and_an_unsupported_language_asks_in_english(comprehend: tuple[Any, Stubber]) -> None:
    client, stubber = comprehend
    text = "환" * 2000  # 6,000 bytes of UTF-8
    stubber.add_response(
        "detect_sentiment",
        {"Sentiment": "NEUTRAL", "SentimentScore": {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.8, "Mixed": 0.0}},
        {"Text": "환" * (MAX_BYTES // 3), "LanguageCode": "en"},
    )
    assert ComprehendSentiment(lambda: client).detect(text, "nl").label == "neutral"


def test_a_comprehend_error_leaves_the_offline_sentiment_and_the_event_goes_on(comprehend: tuple[Any, Stubber]) -> None:
    client, stubber = comprehend
    stubber.add_client_error("detect_sentiment", service_error_code="ThrottlingException", http_status_code=400)
    classifier = Classifier(ClassificationRules(sentiment="comprehend"), service=ComprehendSentiment(lambda: client))
    event = sample_event("meta-whatsapp-text")
    result = classifier.classify(event)
    assert result.language == "es"
    assert result.sentiment == "positive"  # the offline reading of "… ¿Pueden ayudarme? 🙏"
    with pytest.raises(ClientError):
        stubber.add_client_error("detect_sentiment", service_error_code="InternalServerException", http_status_code=500)
        ComprehendSentiment(lambda: client).detect("hi", "en")
