"""A Python legacy client: zeep reads the nms:rtEvent WSDL through the proxy
and pushes one event with the session token given on the command line.
Prints the event id. Used by test/clients/zeep.test.ts."""
import sys

from lxml import etree
from zeep import Client

wsdl_url, session_token = sys.argv[1], sys.argv[2]
client = Client(wsdl_url)
event = etree.fromstring('<rtEvent type="welcome" email="zeep@example.com"/>')
result = client.service.PushEvent(sessiontoken=session_token, domEvent={'_value_1': event})
print(result)
