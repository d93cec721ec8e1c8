// SPDX-License-Identifier: MIT
/* The ring tests' fixture: see vq_fixture.h. */
#include <string.h>

#include "test.h"
#include "vq_fixture.h"

static struct vnet_chain chain;

static void on_notify(struct vnet_virtq *vq, void *opaque)
{
	((struct vq_fx *)opaque)->notifies++;
}

static void on_error(struct vnet_virtq *vq, int err, void *opaque)
{
	struct vq_fx *f = opaque;

	f->errors++;
	f->last_err = err;
}

static const struct vnet_virtq_ops fx_ops = { .notify = on_notify, .error = on_error };

int vq_fx_setup(struct vq_fx *f, bool packed, __u16 size, __u64 features)
{
	struct vnet_virtq_cfg cfg;
	int err;

	memset(f, 0, sizeof(*f));
	err = (packed ? vdriver_create_packed : vdriver_create)(&f->d, size, 1 << 20);
	if (err)
		return err;
	f->d.event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	f->d.in_order = features & (1ull << VIRTIO_F_IN_ORDER);
	vnet_virtq_init(&f->vq, 0, &fx_ops, f);
	vdriver_cfg(&f->d, features, &cfg);
	err = vnet_virtq_setup(&f->vq, &f->d.gm, &cfg);
	if (!err && f->vq.layout != (packed ? VNET_VQ_PACKED : VNET_VQ_SPLIT))
		err = -1;
	return err;
}

void vq_fx_done(struct vq_fx *f)
{
	vdriver_destroy(&f->d);
}

void vq_fx_complete_each(struct vq_fx *f, int n)
{
	struct vdrv_seg s = { vdriver_alloc(&f->d, 64, NULL), 64, true };

	for (int i = 0; i < n; i++) {
		vdriver_add(&f->d, &s, 1, false);
		vdriver_publish(&f->d);
		if (vnet_virtq_pop(&f->vq, &chain) == 1)
			vnet_virtq_push(&f->vq, chain.head, 0);
		vnet_virtq_flush(&f->vq, 1);
		vdriver_get_used(&f->d, NULL);
	}
}

void vq_fx_pop_all(struct vq_fx *f)
{
	unsigned int n = 0;

	while (vnet_virtq_pop(&f->vq, &chain) == 1) {
		vnet_virtq_push(&f->vq, chain.head, 0);
		n++;
	}
	vnet_virtq_flush(&f->vq, n);
	while (vdriver_get_used(&f->d, NULL) >= 0)
		;
}

void vq_fx_expect_bad(struct vq_fx *f, int id, int err)
{
	__u64 bad = f->vq.stats.bad_chains;
	__u32 len = 1;
	int r = vnet_virtq_pop(&f->vq, &chain), got;

	EXPECT(r == 0, "pop returned %d", r);
	EXPECT(f->vq.stats.bad_chains == bad + 1, "bad chain not counted");
	EXPECT(f->vq.stats.last_bad_err == err, "error %d, want %d",
	       f->vq.stats.last_bad_err, err);
	vnet_virtq_flush(&f->vq, 0);
	got = vdriver_get_used(&f->d, &len);
	EXPECT(got >= 0 && (id < 0 || got == id), "returned id %d, want %d", got, id);
	EXPECT(len == 0, "used len %u", len);
	EXPECT(!f->vq.broken && f->errors == 0, "queue broke");
}

void vq_fx_expect_still_works(struct vq_fx *f)
{
	struct vdrv_seg s = { vdriver_alloc(&f->d, 64, NULL), 64, false };
	int id = vdriver_add(&f->d, &s, 1, false);

	vdriver_publish(&f->d);
	EXPECT(vnet_virtq_pop(&f->vq, &chain) == 1, "good chain after bad");
	EXPECT(vnet_chain_id(chain.head) == id && chain.out_len == 64, "id %u len %u",
	       vnet_chain_id(chain.head), chain.out_len);
	vnet_virtq_push(&f->vq, chain.head, 0);
	vnet_virtq_flush(&f->vq, 1);
	EXPECT(vdriver_get_used(&f->d, NULL) == id, "used id");
}

void vq_fx_touch_chain(struct vq_fx *f, const struct vnet_chain *c)
{
	for (int i = 0; i < c->nr_out + c->nr_in; i++) {
		__u8 *p = c->iov[i].base;

		EXPECT(p >= f->d.mem && p + c->iov[i].len <= f->d.mem + f->d.mem_size,
		       "iov outside guest memory");
		if (i >= c->nr_out)
			memset(p, 0xab, c->iov[i].len);
		else
			(void)*(volatile __u8 *)p;
	}
}
