"""``bedrock``: Amazon Bedrock InvokeModel (``provider``), the per-family request and answer shapes
(``models``) and SigV4 signing with the usual AWS credential chain (``signing``)."""
