// SPDX-License-Identifier: MIT
/* Counters as text or one JSON document per print (stdout). */
#include <stdio.h>

#include "vnet/json.h"
#include "guest.h"

static void print_json(const struct guest *g)
{
	struct json_writer jw;
	unsigned int q, r;
	char hex[24];

	/* a string: 64-bit feature words exceed the 2^53 a JSON number keeps */
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)g->features);
	jw_init(&jw, stdout, false);
	jw_obj_open(&jw, NULL);
	jw_str(&jw, "ifname", g->tap_name);
	jw_str(&jw, "features", hex);
	jw_uint(&jw, "queue_pairs", g->nqp);
	jw_bool(&jw, "link_up", g->link_up);
	jw_uint(&jw, "connects", g->connects);
	jw_uint(&jw, "disconnects", g->disconnects);
	jw_uint(&jw, "config_changes", g->config_changes);
	jw_uint(&jw, "announces", g->announces);
	jw_uint(&jw, "announce_frames", g->announce_frames);
	jw_uint(&jw, "rarps_sent", g->rarps_sent);
	jw_uint(&jw, "netlink_events", g->nl_events);
	jw_uint(&jw, "rxmode_syncs", g->syncs);
	jw_uint(&jw, "vlan_reloads", g->vlan_reloads);
	jw_uint(&jw, "ctrl_ok", g->cvq.ok);
	jw_uint(&jw, "ctrl_err", g->cvq.err);
	jw_uint(&jw, "hash_types", g->hash_types);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)g->guest_offloads);
	jw_str(&jw, "guest_offloads", hex);
	jw_uint(&jw, "offload_changes", g->offload_changes);
	jw_arr_open(&jw, "rx");
	for (q = 0; q < g->nqp; q++) {
		const struct guest_rxq_stats *s = &g->rxq[q].st;

		jw_obj_open(&jw, NULL);
		jw_uint(&jw, "queue", q);
		jw_uint(&jw, "packets", s->packets);
		jw_uint(&jw, "bytes", s->bytes);
		jw_uint(&jw, "merged", s->merged);
		jw_uint(&jw, "gso", s->gso);
		jw_uint(&jw, "csum", s->csum);
		jw_uint(&jw, "hash_checked", s->hash_checked);
		jw_uint(&jw, "hash_mismatch", s->hash_mismatch);
		jw_uint(&jw, "queue_mismatch", s->queue_mismatch);
		jw_uint(&jw, "errors", s->tap_errors);
		jw_uint(&jw, "calls", s->calls);
		jw_obj_open(&jw, "hash_types_seen");
		for (r = 0; r <= VNET_HASH_REPORT_MAX; r++)
			if (s->report[r])
				jw_uint(&jw, vnet_hash_report_name(r), s->report[r]);
		jw_obj_close(&jw);
		jw_obj_close(&jw);
	}
	jw_arr_close(&jw);
	jw_arr_open(&jw, "tx");
	for (q = 0; q < g->nqp; q++) {
		const struct guest_txq_stats *s = &g->txq[q].st;

		jw_obj_open(&jw, NULL);
		jw_uint(&jw, "queue", q);
		jw_uint(&jw, "packets", s->packets);
		jw_uint(&jw, "bytes", s->bytes);
		jw_uint(&jw, "csum", s->csum);
		jw_uint(&jw, "gso", s->gso);
		jw_uint(&jw, "ring_full", s->full);
		jw_uint(&jw, "publishes", s->publishes);
		jw_uint(&jw, "kicks", s->kicks);
		jw_obj_close(&jw);
	}
	jw_arr_close(&jw);
	jw_obj_close(&jw);
	jw_finish(&jw);
}

void stats_print(const struct guest *g, bool json)
{
	unsigned int q, r;

	if (json) {
		print_json(g);
		fflush(stdout);
		return;
	}
	printf("%s: %u queue pairs, link %s, features 0x%llx, connects %llu, "
	       "disconnects %llu, ctrl ok %llu err %llu, config changes %llu, "
	       "announces %llu, rarps sent %llu\n", g->tap_name, g->nqp,
	       g->link_up ? "up" : "down", (unsigned long long)g->features,
	       (unsigned long long)g->connects, (unsigned long long)g->disconnects,
	       (unsigned long long)g->cvq.ok, (unsigned long long)g->cvq.err,
	       (unsigned long long)g->config_changes, (unsigned long long)g->announces,
	       (unsigned long long)g->rarps_sent);
	for (q = 0; q < g->nqp; q++) {
		const struct guest_rxq_stats *s = &g->rxq[q].st;
		const struct guest_txq_stats *t = &g->txq[q].st;

		printf("  rx%u: packets %llu bytes %llu merged %llu gso %llu csum %llu "
		       "hash checked %llu mismatch %llu queue mismatch %llu errors %llu "
		       "calls %llu", q,
		       (unsigned long long)s->packets, (unsigned long long)s->bytes,
		       (unsigned long long)s->merged, (unsigned long long)s->gso,
		       (unsigned long long)s->csum, (unsigned long long)s->hash_checked,
		       (unsigned long long)s->hash_mismatch,
		       (unsigned long long)s->queue_mismatch, (unsigned long long)s->tap_errors,
		       (unsigned long long)s->calls);
		for (r = 0; r <= VNET_HASH_REPORT_MAX; r++)
			if (s->report[r])
				printf(" %s %llu", vnet_hash_report_name(r),
				       (unsigned long long)s->report[r]);
		printf("\n  tx%u: packets %llu bytes %llu csum %llu gso %llu ring full %llu "
		       "publishes %llu kicks %llu\n", q,
		       (unsigned long long)t->packets, (unsigned long long)t->bytes,
		       (unsigned long long)t->csum, (unsigned long long)t->gso,
		       (unsigned long long)t->full, (unsigned long long)t->publishes,
		       (unsigned long long)t->kicks);
	}
	fflush(stdout);
}
