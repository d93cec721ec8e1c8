// SPDX-License-Identifier: MIT
/*
 * Persistence of the device registry. One text line per device:
 *
 *   dev name=vnet0 mgmtdev=eth0 mac=02:00:00:00:00:01 mtu=1500 max_vqp=4
 *       features=0x... transport=0 sock_mode=0 socket=/run/vnetd/vnet0.sock
 *       trusted=0 spoofchk=1 bind=0 netns=-
 *
 * Written on every change as a whole new file (temp file, fsync, rename,
 * fsync of the directory), so a crash at any moment leaves either the old or
 * the new registry on disk, never a mix. Loading goes through the same
 * validation as a DEV_NEW request: a corrupt line is reported and skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnet/log.h"
#include "vnet/registry.h"
#include "vnet/netutil.h"

#define STATE_HEADER	"# vnetd state, version 1\n"

int vnet_state_format(const struct vnet_registry *r, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	n = snprintf(buf, len, STATE_HEADER);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = n;
	for (int i = 0; i < r->n_devs; i++) {
		const struct vnet_dev_params *p = &r->devs[i]->p;
		char features[2 + VNET_FEATURE_BITS / 4 + 1];

		/* every bit: above 63 too ("0x" and up to 32 digits) */
		vnet_features_format(&p->features, features, sizeof(features));
		n = snprintf(buf + off, len - off,
			     "dev name=%s mgmtdev=%s mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u "
			     "max_vqp=%u features=%s transport=%u sock_mode=%u "
			     "socket=%s trusted=%d spoofchk=%d bind=%u netns=%s\n",
			     p->name, p->mgmtdev, p->mac[0], p->mac[1], p->mac[2], p->mac[3],
			     p->mac[4], p->mac[5], p->mtu, p->max_vqp, features,
			     p->transport, p->sock_mode, p->socket_path[0] ? p->socket_path : "-",
			     p->trusted, p->spoofchk, p->bind, p->netns[0] ? p->netns : "-");
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	return (int)off;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int vnet_state_save(const struct vnet_registry *r)
{
	size_t cap = 512 + (size_t)r->n_devs * 512;
	char tmp[sizeof(r->state_path) + 8], dir[sizeof(r->state_path)];
	char *buf;
	int fd, dfd, len, err;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	len = vnet_state_format(r, buf, cap);
	if (len < 0) {
		err = len;
		goto out_free;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (err)
		goto out_unlink;
	if (rename(tmp, r->state_path)) {
		err = -errno;
		goto out_unlink;
	}
	/* the rename itself must reach the disk too */
	snprintf(dir, sizeof(dir), "%s", r->state_path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(buf);
	return 0;

out_unlink:
	unlink(tmp);
out_free:
	pr_warn("cannot save state %s: %s\n", r->state_path, strerror(-err));
	free(buf);
	return err;
}

static int parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || *out > max || *s == '-')
		return -EINVAL;
	return 0;
}

/* one "dev k=v ..." line into params (every field explicit) */
static int parse_dev_line(char *line, struct vnet_dev_params *p)
{
	unsigned long long v;
	char *save = NULL, *tok;
	unsigned int seen = 0;

	memset(p, 0, sizeof(*p));
	tok = strtok_r(line, " \t\n", &save);
	if (!tok || strcmp(tok, "dev"))
		return -EINVAL;
	while ((tok = strtok_r(NULL, " \t\n", &save))) {
		char *val = strchr(tok, '=');

		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "name")) {
			if (strlen(val) >= sizeof(p->name))
				return -EINVAL;
			strcpy(p->name, val);
			seen |= 1;
		} else if (!strcmp(tok, "mgmtdev")) {
			if (strlen(val) >= sizeof(p->mgmtdev))
				return -EINVAL;
			strcpy(p->mgmtdev, val);
			seen |= 2;
		} else if (!strcmp(tok, "mac")) {
			if (vnet_mac_parse(val, p->mac))
				return -EINVAL;
			p->mask |= VNET_P_MAC;
		} else if (!strcmp(tok, "mtu")) {
			if (parse_ulong(val, 0xffff, &v))
				return -EINVAL;
			p->mtu = v;
			p->mask |= VNET_P_MTU;
		} else if (!strcmp(tok, "max_vqp")) {
			if (parse_ulong(val, 0xffff, &v))
				return -EINVAL;
			p->max_vqp = v;
			p->mask |= VNET_P_MAX_VQP;
		} else if (!strcmp(tok, "features")) {
			/* hexadecimal, as written, any width; a number in
			 * another base (a hand-edited line) holds bits 0-63 */
			if (!strncmp(val, "0x", 2)) {
				if (vnet_features_parse(val, &p->features))
					return -EINVAL;
			} else {
				if (parse_ulong(val, UINT64_MAX, &v))
					return -EINVAL;
				p->features = vnet_features_from_u64(v);
			}
			p->mask |= VNET_P_FEATURES;
		} else if (!strcmp(tok, "transport")) {
			if (parse_ulong(val, 0xffffffff, &v))
				return -EINVAL;
			/* 2 was "none", vnet/sim before its devices had a
			 * socket: such a line takes today's default */
			if (v == 2)
				continue;
			p->transport = v;
			p->mask |= VNET_P_TRANSPORT;
		} else if (!strcmp(tok, "sock_mode")) {
			if (parse_ulong(val, 0xffffffff, &v))
				return -EINVAL;
			p->sock_mode = v;
			/* 0 is the default (and what VDUSE devices write) */
			if (v)
				p->mask |= VNET_P_SOCK_MODE;
		} else if (!strcmp(tok, "socket")) {
			if (strcmp(val, "-")) {
				if (strlen(val) >= sizeof(p->socket_path))
					return -EINVAL;
				strcpy(p->socket_path, val);
				p->mask |= VNET_P_SOCKET;
			}
		} else if (!strcmp(tok, "trusted")) {
			if (parse_ulong(val, 1, &v))
				return -EINVAL;
			p->trusted = v;
			p->mask |= VNET_P_TRUSTED;
		} else if (!strcmp(tok, "spoofchk")) {
			if (parse_ulong(val, 1, &v))
				return -EINVAL;
			p->spoofchk = v;
			p->mask |= VNET_P_SPOOFCHK;
		} else if (!strcmp(tok, "bind")) {
			/* vhost-user devices have one too: only VDUSE's counts */
			if (parse_ulong(val, 0xffffffff, &v))
				return -EINVAL;
			p->bind = v;
			if (v != VNET_BIND_VIRTIO)
				p->mask |= VNET_P_BIND;
		} else if (!strcmp(tok, "netns")) {
			if (strcmp(val, "-")) {
				if (strlen(val) >= sizeof(p->netns))
					return -EINVAL;
				strcpy(p->netns, val);
				p->mask |= VNET_P_NETNS;
			}
		} else {
			return -EINVAL;
		}
	}
	return seen == 3 ? 0 : -EINVAL;
}

int vnet_state_load(struct vnet_registry *r)
{
	struct vnet_dev_params p;
	struct vnet_err e = { 0 };
	char line[1024];
	int lineno = 0, restored = 0;
	FILE *f;

	if (!r->state_path[0])
		return 0;
	f = fopen(r->state_path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	r->restoring = true;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_dev_line(line, &p)) {
			pr_warn("%s:%d: malformed line skipped\n", r->state_path, lineno);
			continue;
		}
		/* an uplink that has devices stays managed across restarts */
		if (!vnet_registry_find_mgmtdev(r, NULL, p.mgmtdev) &&
		    !vnet_registry_add_mgmtdev(r, p.mgmtdev))
			pr_warn("uplink %s of device %s was not given with -u; managing it\n",
				p.mgmtdev, p.name);
		if (vnet_registry_dev_new(r, &p, &e)) {
			pr_warn("%s:%d: device %s not restored: %s\n", r->state_path, lineno,
				p.name, e.msg ? e.msg : "error");
			continue;
		}
		restored++;
	}
	r->restoring = false;
	fclose(f);
	pr_info("restored %d device(s) from %s\n", restored, r->state_path);
	return restored;
}
