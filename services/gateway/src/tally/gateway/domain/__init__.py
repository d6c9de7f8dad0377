"""The gateway's pure logic: language detection, texts, throttling, first contact, alerts."""
