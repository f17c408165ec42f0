/* SPDX-License-Identifier: MIT */
/* tools/tests/fake/fake_transport.h - a keelctl transport onto the in-process core. */
#ifndef KEELCTL_FAKE_TRANSPORT_H
#define KEELCTL_FAKE_TRANSPORT_H

#include <keelctl/transport.h>

/*
 * A transport whose hypercalls are made by domain @dom of fake_keel.h,
 * bouncing buffers through its RAM exactly as docs/keelctl.md says the
 * privileged driver does (and refusing what the driver refuses).
 */
struct keelctl_transport *fake_transport_open(void *dom);

#endif
