"""Keys bound for log lines: the customer's phone number or e-mail replaced, platform ids kept readable."""

from __future__ import annotations

from socialdesk.privacy import log_key, log_text, log_trace, log_value, pseudonym

PHONE = "16505551234"
BSUID = "US.13491208655302741918"


def test_whatsapp_keys_keep_platform_and_brand_number_id_and_replace_the_customer() -> None:
    # Given the conversation, customer and event keys of one WhatsApp customer
    conversation = log_key(f"whatsapp:106540352242922:chat:{PHONE}")
    customer = log_key(f"whatsapp:{PHONE}")
    event = log_key("whatsapp:106540352242922:wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBMDAwMDAwMDAwMDAwMDAwMAA=")
    # Then the brand stays readable, the number is gone, and the same customer reads the same everywhere
    assert conversation == f"whatsapp:106540352242922:chat:{pseudonym(PHONE)}"
    assert customer == f"whatsapp:{pseudonym(PHONE)}"
    assert event is not None
    assert event.startswith("whatsapp:106540352242922:~")
    assert "MTY1MDU1NTEyMzQ" not in event


def test_whatsapp_keys_by_business_scoped_user_id_replace_it_as_they_replace_a_phone_number() -> None:
    # Given the conversation and customer keys of a customer Meta names by BSUID (since April 2026), and a failure naming one
    conversation = log_key(f"whatsapp:106540352242922:chat:{BSUID}")
    customer = log_key(f"whatsapp:{BSUID}")
    reason = log_text(f"conversation whatsapp:106540352242922:chat:{BSUID} kept changing")
    # Then the BSUID is replaced whole (its country code too), the brand's number id and the scope stay readable
    assert conversation == f"whatsapp:106540352242922:chat:{pseudonym(BSUID)}"
    assert customer == f"whatsapp:{pseudonym(BSUID)}"
    assert reason == f"conversation whatsapp:106540352242922:chat:{pseudonym(BSUID)} kept changing"
    assert all("13491208655302741918" not in text and "US." not in text for text in (str(conversation), str(customer), reason))


def test_other_platforms_keys_stay_readable_unless_a_part_is_an_email_or_a_phone_number() -> None:
    assert log_key("x:2244994945:thread:1850001") == "x:2244994945:thread:1850001"
    assert (
        log_key("facebook:448242228374517:post:448242228374517_1221316769125949") == "facebook:448242228374517:post:448242228374517_1221316769125949"
    )
    assert log_key("messenger:1:dm:dana@example.com") == f"messenger:1:dm:{pseudonym('dana@example.com')}"
    assert log_key("x:1:dm:+16505551234") == f"x:1:dm:{pseudonym('+16505551234')}"
    assert log_key(None) is None


def test_failure_reasons_lose_whatsapp_keys_and_email_addresses_inside_them() -> None:
    reason = f"conversation whatsapp:106540352242922:chat:{PHONE} kept changing; requester dana@example.com refused"
    scrubbed = log_text(reason)
    assert PHONE not in scrubbed
    assert "dana@example.com" not in scrubbed
    assert scrubbed.startswith("conversation whatsapp:106540352242922:chat:~")


def test_an_exceptions_text_loses_phone_numbers_and_chat_keys_but_keeps_long_ids() -> None:
    # Given an exception message naming a WhatsApp chat key, a bare number with and without +, and an X post id
    text = "conversation whatsapp:106540352242922:chat:16505551234 busy; sent to +4915112345678, 4915112345678; post 1924465506158878979"
    # When it is made fit for a log line
    scrubbed = log_trace(text)
    # Then no phone number survives, and the 19-digit X id (no phone number) does
    assert "16505551234" not in scrubbed and "4915112345678" not in scrubbed
    assert "1924465506158878979" in scrubbed
    assert "whatsapp:106540352242922:chat:~" in scrubbed


def test_names_embedding_a_whatsapp_key_lose_the_customer_and_keep_their_prefix() -> None:
    """Given a job id and a store anchor built on a WhatsApp conversation key, and a value already pseudonymised
    When each is made fit for a log line (as the formatter does for every value of every line)
    Then the phone number is gone, the prefix and brand stay, and a pseudonym is not pseudonymised again."""
    conversation = f"whatsapp:106540352242922:chat:{PHONE}"
    job = log_value({"job": f"ack:{conversation}:1764871200", "anchors": [f"CONV#{conversation}"]})
    assert job == {
        "job": f"ack:whatsapp:106540352242922:chat:{pseudonym(PHONE)}:{pseudonym('1764871200')}",
        "anchors": [f"CONV#whatsapp:106540352242922:chat:{pseudonym(PHONE)}"],
    }
    assert log_value(log_key(conversation)) == log_key(conversation)
