/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/start.c - start of day (docs/abi/README.md, "Start of
 * day") and its undoing: version check, identification, the map window,
 * the shared info page, every vCPU's keel_vcpu_info and upcall, the grant
 * table. The hypercall page (x86) is the OS's, installed before.
 */
#include "internal.h"

/*
 * The port's ABI must be one pvdrivers knows, and Keel's major ours with a
 * minor at least the port's: what the port itself relies on. Calls of later
 * minors pvdrivers uses only where Keel has them (k->keel_minor).
 */
static int check_version(const struct kpv_os *os, uint32_t *keel_minor)
{
	long v;

	if (os->abi_major != KEEL_ABI_MAJOR || os->abi_minor > KEEL_ABI_MINOR) {
		kpv_log(KPV_LOG_ERROR, "kpv: the port wants ABI %u.%u, pvdrivers has %u.%u",
			os->abi_major, os->abi_minor, KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
		return -KEEL_EVERSION;
	}
	v = kpv_hc(KEEL_HC_VERSION, 0, 0, 0);
	if (v < 0) {
		return kpv_err(v);
	}
	if ((v >> 16) != KEEL_ABI_MAJOR || (v & 0xffff) < os->abi_minor) {
		kpv_log(KPV_LOG_ERROR, "kpv: Keel implements ABI %ld.%ld, we need %u.%u",
			v >> 16, v & 0xffff, KEEL_ABI_MAJOR, os->abi_minor);
		return -KEEL_EVERSION;
	}
	*keel_minor = (uint32_t)(v & 0xffff);
	return 0;
}

static void copy_name(uint8_t *dst, size_t size, const char *src)
{
	for (size_t i = 0; src && i + 1 < size && src[i]; i++) {
		dst[i] = (uint8_t)src[i];
	}
}

static int identify(const struct kpv_os *os)
{
	struct keel_identity id = {
		.os_id = os->os_id, .abi_major = KEEL_ABI_MAJOR, .abi_minor = os->abi_minor,
	};

	kpv_memcpy(id.os_version, os->os_version, sizeof(id.os_version));
	kpv_memcpy(id.pkg_version, os->pkg_version, sizeof(id.pkg_version));
	copy_name(id.os_name, sizeof(id.os_name), os->os_name);
	copy_name(id.pkg_name, sizeof(id.pkg_name), os->pkg_name);
	return kpv_err(kpv_hc_struct(KEEL_HC_IDENTIFY, &id, sizeof(id), 0, 0));
}

static int map_shared_info(struct kpv *k)
{
	int err;

	k->shared = kpv_map_keel_at(KEEL_MAPSPACE_SHARED_INFO, 0,
				    kpv_window_slot(k, KPV_WINDOW_SLOT_SHARED), &err);
	if (!k->shared) {
		return err;
	}
	k->domid = kpv_load_relaxed(&k->shared->domid);
	k->nr_vcpus = kpv_load_relaxed(&k->shared->nr_vcpus);
	if (k->nr_vcpus == 0 || k->nr_vcpus > KPV_MAX_VCPUS) {
		kpv_log(KPV_LOG_ERROR, "kpv: %u vCPUs, we handle 1 .. %u", k->nr_vcpus,
			KPV_MAX_VCPUS);
		return -KEEL_ENOSPC;
	}
	return 0;
}

/*
 * Give each vCPU its keel_vcpu_info. Once registered, Keel writes it until
 * the domain dies (ABI 1.0 has no unregister), so it is never freed again:
 * not on a later failure, not in kpv_stop().
 */
static int register_vcpus(struct kpv *k)
{
	k->vcpu_info = kpv_shim_alloc(k->nr_vcpus * sizeof(*k->vcpu_info));
	if (!k->vcpu_info) {
		return -KEEL_ENOMEM;
	}
	for (uint32_t v = 0; v < k->nr_vcpus; v++) {
		struct keel_vcpu_info *vi = kpv_shim_alloc(sizeof(*vi));
		long rc;

		if (!vi) {
			return -KEEL_ENOMEM;
		}
		rc = kpv_hc(KEEL_HC_VCPU_REGISTER_INFO, v, kpv_shim_virt_to_gpa(vi), 0);
		if (rc < 0) {
			kpv_shim_free(vi);
			return kpv_err(rc);
		}
		k->vcpu_info[v] = vi;
	}
	return 0;
}

static long set_upcall(uint32_t vcpu, uint32_t mode, uint32_t vector)
{
	struct keel_evtchn_upcall req = { .vcpu = vcpu, .mode = mode, .vector = vector };

	return kpv_hc_struct(KEEL_HC_EVTCHN_SET_UPCALL, &req, sizeof(req), 0, 0);
}

/* Upcalls off on every vCPU, then the OS's handler disconnected. */
static void upcalls_off(struct kpv *k)
{
	if (!k->upcall_connected) {
		return;
	}
	for (uint32_t v = 0; v < k->nr_vcpus; v++) {
		set_upcall(v, KEEL_UPCALL_NONE, 0);
	}
	kpv_shim_upcall_disconnect(k);
	k->upcall_connected = false;
}

/* Platform (INTx/MSI) delivery reaches vCPU 0 only; ports all notify vCPU 0 anyway. */
static int upcalls_on(struct kpv *k)
{
	uint32_t vector = 0;
	int mode = kpv_shim_upcall_connect(k, &vector);
	uint32_t n;

	if (mode < 0) {
		return mode;
	}
	k->upcall_connected = true;
	k->upcall_mode = (uint32_t)mode;
	n = mode == KEEL_UPCALL_PLATFORM ? 1 : k->nr_vcpus;
	for (uint32_t v = 0; v < n; v++) {
		long rc = set_upcall(v, (uint32_t)mode, vector);

		if (rc < 0) {
			upcalls_off(k);
			return kpv_err(rc);
		}
	}
	return 0;
}

/* Everything but the vcpu_infos, in reverse order; safe on a partial start. */
static void teardown(struct kpv *k)
{
	if (k->dev_lock) {
		kpv_devices_fini(k);
	}
	if (k->gnt_lock) {
		kpv_grants_fini(k);
	}
	upcalls_off(k);
	if (k->ev_lock) {
		kpv_evtchn_fini(k);
	}
	if (k->shared) {
		kpv_shim_unmap_gpa(k->shared, 1);	/* Keel's page stays at its slot */
	}
	if (k->win_bits) {
		kpv_window_fini(k);
	}
	kpv_shim_free(k->vcpu_info);	/* the array; the structs stay with Keel */
	kpv_shim_free(k);
}

int kpv_start(const struct kpv_os *os, struct kpv **out)
{
	uint32_t keel_minor = 0;
	struct kpv *k;
	int rc;

	*out = NULL;
	rc = check_version(os, &keel_minor);
	if (rc == 0) {
		rc = identify(os);
	}
	if (rc != 0) {
		return rc;
	}
	k = kpv_shim_alloc(sizeof(*k));
	if (!k) {
		return -KEEL_ENOMEM;
	}
	k->keel_minor = keel_minor;
	rc = kpv_window_init(k);
	if (rc == 0) {
		rc = map_shared_info(k);
	}
	if (rc == 0) {
		rc = kpv_evtchn_init(k);
	}
	if (rc == 0) {
		rc = register_vcpus(k);
	}
	if (rc == 0) {
		rc = upcalls_on(k);
	}
	if (rc == 0) {
		rc = kpv_grants_init(k);
	}
	if (rc == 0) {
		rc = kpv_devices_init(k);
	}
	if (rc != 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: start failed (%d)", rc);
		teardown(k);
		return rc;
	}
	kpv_log(KPV_LOG_INFO, "kpv: domain %u, %u vCPU(s), ABI %u.%u", k->domid, k->nr_vcpus,
		KEEL_ABI_MAJOR, k->keel_minor);
	*out = k;
	return 0;
}

void kpv_stop(struct kpv *k)
{
	if (k) {
		teardown(k);
	}
}

uint32_t kpv_domid(const struct kpv *k)
{
	return k->domid;
}

uint32_t kpv_nr_vcpus(const struct kpv *k)
{
	return k->nr_vcpus;
}

uint32_t kpv_shutdown_request(const struct kpv *k)
{
	/* Keel writes it at any time: read it once, as it is now. */
	return *(const volatile uint32_t *)&k->shared->shutdown_request;
}
