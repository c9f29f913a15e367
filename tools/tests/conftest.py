"""One embedded broker for the whole tools suite, through the same fixture factory the services use."""

from rcm_tools.testing import embedded_broker_fixture

embedded_broker = embedded_broker_fixture()
