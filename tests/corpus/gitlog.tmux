cursor 23 0
* [33m4976057[39m Start updating Debian packaging for 1.3.2.95rc2
* [33ma08e682 ([1mtag: mosh-1.3.2.95rc2[0m[33m[49m)[39m Bump release candidate to 1.3.2.95rc2
* [33m6822628[39m Disable emulation-attributes-bce on tmux 3.3a
* [33mf3665fb ([1mtag: mosh-1.3.2.95rc1[0m[33m[49m)[39m Switch 1.4.0-rc1 version to 1.3.2.95rc1
* [33mfe72a3e[39m Bump release candidate to 1.4.0-rc1
* [33m3afba89[39m Actually evaluate the github actions contains() expression for prerele
ase
* [33m850c1f0 ([1mtag: mosh-1.4.0-rc0[0m[33m[49m)[39m Fetch forcibly while fetching tags
* [33m7d2601d[39m Tag mosh 1.4.0 Release Candidate
* [33mcd70506[39m Audit and fix up format strings
* [33m4cd2da5[39m Switch macOS multi-arch to x86_64+arm64
* [33m6154bc0[39m Add -Wno-unused-parameter
* [33m0982212[39m Remove obsolete Travis CI configuration
* [33m7f0c3a4[39m Add macOS release steps to Github Actions
* [33mf0b0108[39m Add release action on Linux
* [33m581bd67[39m Fixes for distcheck
* [33m2b7dd9e[39m Correct memory leak in ocb-aes test
* [33m1416e9a[39m OCB: Use OpenSSL EVP instead of deprecated AES
* [33m5ad20db[39m Stop using deprecated Nettle functions
* [33mdb49808[39m OCB: Heap-allocate keys
* [33mad85b90[39m OCB: Make primitive AES API explicit
* [33m0a30c5a[39m Delete unused ROUNDS macro
* [33me5e62b4[39m Add nettle to the CI matrix

