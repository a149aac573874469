"""The original Distill article's published files, found locally or fetched by URL with a pin.

Carter, Ha, Johnson and Olah (Distill, 2016) published their quantised weights
(`b64_weights.json`), the cell ordering of their figures (`metadata.json`) and the human
handwriting lines they showed (`validation-data/N.json`, 145 of them) in the public
repository distillpub/post--handwriting. The project never copies these files: `fetch(name)`
uses the local folder `distill_dir()` when its copy matches the sha256 pinned below, and
otherwise downloads the file once into the Keras cache (~/.keras/handwriting), where
`keras.utils.get_file` checks the same pin.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from model.base import DataError, distill_dir

BASE_URL = "https://raw.githubusercontent.com/distillpub/post--handwriting/master/"
CACHE_SUBDIR = "handwriting"
# Set (to anything but empty) on air-gapped machines and in the newcomer's test pass: every
# download is refused with a one-line error instead of waiting on the network.
OFFLINE_ENV = "HANDWRITING_OFFLINE"

# Where each file sits in the article's repository; the human lines keep their own path.
REPOSITORY_PATHS = {
    "b64_weights.json": "public/assets/model/b64_weights.json",
    "metadata.json": "public/assets/metadata.json",
}

# sha256 of every file as published (computed from the shared copies, which are byte-identical
# to the repository's). Lines 43, 58, 71, 75 and 117 are deliberately not among them.
SHA256 = {
    "b64_weights.json": "b68fea368130b9fcd16f3cc66a8556d0be8a5c7501af92dbd75afdddc151df08",
    "metadata.json": "79738b8fbcf2beae1cdae20a97b86e8d17b5c8d6098cce12ca4661e77e794f5a",
    "validation-data/0.json": "a668004566cbc07d1f1c43db79330c071331afefd72e22774f23a6a8771cd864",
    "validation-data/1.json": "12b8d97b0949e55243ea6db47adcd500576ef9dd7fec8b6aa7ff41c20e930fcf",
    "validation-data/2.json": "bf26d5e309408eb08a2915a48c5a32d88cca8c313f2810bc3b2d677978e49ca5",
    "validation-data/3.json": "5901822efe30bd7005cac70d2e13a556c5437776901dfde5abb0020a5a454358",
    "validation-data/4.json": "44279f65a0490d56dbd994652a8c7cdfeee35125c7b1f42520b50170826df688",
    "validation-data/5.json": "2a003515983896334ead8f4888b3be45e9b1b5914a55dca01c5e45642acfbaf6",
    "validation-data/6.json": "c4aa4d4ae517883133ca64880cbfbb0041ee406d65e8344c75b8e29317a8acc8",
    "validation-data/7.json": "63039c32dc44f5f337913c05ff9c46f59ed56c9bf07ea471845a57f6d42e01af",
    "validation-data/8.json": "0f6c062fcabb65a9366bcafb04a659c47d477aabd3111650f03ce03e8dd723c2",
    "validation-data/9.json": "b482307bfa88d7eb3ef2d4f4c6bc233914e43da17e9e1dd158a67a3182e9a499",
    "validation-data/10.json": "40aa0e7c21969ee2240065da1f52caf7ad0740c79566b43cf6fb7e6fc70957a3",
    "validation-data/11.json": "0de4de4eae03126b856b34e7d9d7675e2202196d00c92278df2c164770d57a17",
    "validation-data/12.json": "fb8d0f0f401351b5f6eeec3e73c02981aa0dba0c3162be187cef6478c2b8af1d",
    "validation-data/13.json": "1a50c95b9b5b9bbf2db3c433d33424e721630367a8e3d08ad10940cc17665640",
    "validation-data/14.json": "724239065231ca71e9f8760cf49c57287f00445987f2d4703e110cb75809ab62",
    "validation-data/15.json": "866d6c0d37e6128db3dc2d7116b3b8058f052138cfff873c99240306d0216d9d",
    "validation-data/16.json": "42794195fd7e90e32bab6c2d73414caac94c89e7529d5ccc0465e56777f08f7e",
    "validation-data/17.json": "363e9b50552b776770802e96848d4e747e96366746bcd5f181a273e0ccac345a",
    "validation-data/18.json": "aabe592eb03871ecc5b5ee401d0357b52050509a0e59859ef0a5212d73aafd2b",
    "validation-data/19.json": "a4ded9a9af0a6609a0ce57b461bce3348e9eb482fb034edd4d8e98e56e619911",
    "validation-data/20.json": "b4be94434916fa54fea1902f52e6d9f8cace21b1e8a6a61b7fd34d4613e60a60",
    "validation-data/21.json": "07fceec7552df3eaeeedae95f3d0526bc9c9d735705cac2223653b0c472fe534",
    "validation-data/22.json": "3b6b0f609112013d183e0b397c56cd695bcdb51fac3f2ff550886182d4c98df4",
    "validation-data/23.json": "4c451a261cb6cd0d7623d2b874004875b6037ea0e5d303176d6067218d2f5517",
    "validation-data/24.json": "e788081dd1c545f5d56c527fcc366a0d5b5a4feff76d409ac535e4a3637061ea",
    "validation-data/25.json": "0285c9984973e301267f568144773a9efae7fb1d93b3e7d281556c062e98e2fe",
    "validation-data/26.json": "30182d4f308dfdbca79326d608c55b6861e154ce877263b2666148ca653088e3",
    "validation-data/27.json": "a020ddeb8e0f1ef29df866cf79bb66c385c2a7616122316006b05242fce48d80",
    "validation-data/28.json": "dac2ef1101a8cc401dcc4c3f0d3a3e22cf492e47704451b255b85e006b8a67a4",
    "validation-data/29.json": "5c588ecb515ec26b1550a3dab6975283ad5d905442134a24f07d5cedd8099a55",
    "validation-data/30.json": "ef495160874adb57bd9c5fc525d6505085ac3a9328e39f04d4444c5c1db2c1bd",
    "validation-data/31.json": "a3e64cade87ca379a83643e901c034bda3c77f269c2b733ec815589af45ae985",
    "validation-data/32.json": "6d8badf2d11342f2d99f282ffac0b686fd93d3808f5da5995a8d59ec6fb38db7",
    "validation-data/33.json": "33ea721aed2fcd3408a7ec9e5d4f33334c691edc4dc6d641c797ef31c0a03fb6",
    "validation-data/34.json": "6575958fc3da34f417762e07b7e7afe6ac705af0b1c6a2ec794c3afa4d36b079",
    "validation-data/35.json": "3bd15e6fafa2275f261c5c4b493e9fb301866029347f5424e15d3588474f8855",
    "validation-data/36.json": "a62cbc7c100b372d1fa006b4393906b18557a5796f255cc6ebafa34fe54f2416",
    "validation-data/37.json": "a8407a7c5d3132e208c005e6984a6f86d3a5ab409791fd1c387959b946d63d86",
    "validation-data/38.json": "58c131a6c2ac199d3af8912a125be74f32dd309eabe5a1b740ab5d1a36f79a49",
    "validation-data/39.json": "b5a12a12c0a88d0039d0bee76dd57b2bf0529736bb32768a167fb104a212563a",
    "validation-data/40.json": "ac11d5b3f3d5292039cb32971e5056c0972e5dd934f1e1a0eaaaf74c4f189cc5",
    "validation-data/41.json": "5b42d1c77aed5895d915f5b48a5d38831a7b9a4f663d40768ac425c987ff40a7",
    "validation-data/42.json": "dce6cafc8d89851189afe8299703c5c76fcec8f48acc9abf6b266e4676a504db",
    "validation-data/44.json": "e5210b02a7cb92a8dcb1bf644297aebae06a2b91746cb0ad222c3e49a5b289d7",
    "validation-data/45.json": "32eef9eb88932f781b8e7a39089203832f6f15d638d8c62bc7cc85d6edf6380a",
    "validation-data/46.json": "a6d5e2b21be6d2f9c0b89217fff991f0c8ac1c1e8b961894bee26d00e842faa9",
    "validation-data/47.json": "a24cac41c0e6927e154b49f5a4adbcb73716b375d85f89ad79d3fefad7150a4f",
    "validation-data/48.json": "330f54e3359900c5ceb951f5bc22caca6261596e532cafd89efa4cb1b4ae96a7",
    "validation-data/49.json": "0a0d0c73b93d16c6373617a18e9a66d0fca620d95c780714cc75e0d69fa8fd92",
    "validation-data/50.json": "3992c1cfbc8a7058469a13571f72d3ed8c6c402a4fd6b5bd08bfe80050917b5c",
    "validation-data/51.json": "258f4e769010ebec8e8208683d9ab9c541b360bcc53af21c3978fae6ecc203ec",
    "validation-data/52.json": "5d21bcd87b254685d92b15a54bba0ac4735b5243e913fdae1fd97f112a6b2438",
    "validation-data/53.json": "6874b42da118ea637199b02675f3a2afbe0a5720d1ade330544cffa348b7ff7d",
    "validation-data/54.json": "d29029c1bc74645e437bea012061f4156395661a78d46dc309418a83150a1af4",
    "validation-data/55.json": "ef1d7d3bdcbdc4b896146e797c9feca21cd18d5169a889f4951a46de4b3bf9d4",
    "validation-data/56.json": "69231b922bcc915a6bb6871cb0970c899904980800cb8f83a26d08d66235fb9e",
    "validation-data/57.json": "a0ac86062892cf6eec74f7b1b1879c59d0346ec6c0769bcea036d692d352713c",
    "validation-data/59.json": "aabffd66902ee2f74ea6f2deddce2bf991acb2e3e028594271e250281b615435",
    "validation-data/60.json": "76f570a58e1e0daa041ac542b15bde89328e9dfbe3a88ca08bbfca351ddd4490",
    "validation-data/61.json": "209e53d3225428a6a2ace6daf01f9a7a23d6884245207d215f19507a98941d90",
    "validation-data/62.json": "25466f7fe01c4a850154f7b94d4fbf39323dce206daf2ed19c17881577b355ae",
    "validation-data/63.json": "c20ff651b96e0a7f66c421617b143ab239ba2f2b4ed1319770199871b01548ae",
    "validation-data/64.json": "99eef54574963b590a6a11cc10a53bdbf59feced1ecd47fd84359b928f72d948",
    "validation-data/65.json": "cbf0c90fe496d1ed3ff7f3e5cb861adaddddfa0df134ea25bc2c19a225791894",
    "validation-data/66.json": "bc32cf97d91af0d37e59e131840d560bacb72cf6c1aa0dc62a596b8ae7eccc0c",
    "validation-data/67.json": "42fc027fd3ea217919e5089ae6d9110d3f67589f395f180ead9059f76e39b244",
    "validation-data/68.json": "a2f9cf3036f9bb571a5327745773ecea89f7a4c3b59cc05178cf65e6cf2424fa",
    "validation-data/69.json": "cbf99a534a7a0dfad4e21812bca449cd0f40d6e8e74b98da8ff16a5eebd486f2",
    "validation-data/70.json": "9929e6aa148e1af20aa79d9c75d5fc08014444129a2974b87dc923d9a45c4555",
    "validation-data/72.json": "8e73a5869faa4718a0983b3d6c1ddcca04b5b95bbe8e0d42e1ab34f83ac3a579",
    "validation-data/73.json": "58ce40c84926c805ee2510cf1af5bcf7773dbc2dc1d876365ac79ddbe9c4d8ed",
    "validation-data/74.json": "0ad11b4d5852c5d9eedd69c166da213a834948da41a3ce25cb06d0c029c11c60",
    "validation-data/76.json": "90da8273ba3e1c2e2c4f6daf837703b09413706145b030a480055daf87ed5839",
    "validation-data/77.json": "f76bbca4477f63987088df3d5f4bcdf214d79a26e4671d2688f57f3d5567716e",
    "validation-data/78.json": "e3c7c316116b3dd580550afae09a914d7f6e32c4ce13b6ecc453068710042cd0",
    "validation-data/79.json": "3f1f2403ebf84b572456e2be0f95f1bb60bab572e501954727e636a7474d31d5",
    "validation-data/80.json": "258f4e769010ebec8e8208683d9ab9c541b360bcc53af21c3978fae6ecc203ec",
    "validation-data/81.json": "0ba46f0868b8250c5c9ca55e5f1a1c6d649df1b5b8ded70a26408cfc895170a2",
    "validation-data/82.json": "27aa93354671259d210805f15ce938db0ca02ed07fb6662c47a97dc11f4fd519",
    "validation-data/83.json": "2a273c03aa17e38c61931ea27054802f34e9712a4b981cf1a6a85c11ed56bb14",
    "validation-data/84.json": "e4b3066e8bcf0d36d788133fa1b56e764c455abedcb0f31c1aee732eee45816a",
    "validation-data/85.json": "70b8e67a601ff02b67558f35ec2227370e64f58f935c20c3f0b5516f77856fde",
    "validation-data/86.json": "daec8cfb36a4ec68234730545caf9ab82d9a13f6e0bce2c7d84f06e556b88189",
    "validation-data/87.json": "6713da03a5844764be4a18008a7cc3568a2aa1851e00afabaf93e5cb03e16b37",
    "validation-data/88.json": "b8a4eee4d4754cf5a545f6a55fdca47a9e77b9177383e6056809c9ad2730fb0e",
    "validation-data/89.json": "2053e2c4d8e2a1558f6fc0320a35946e35e6d5f8f367690261bc11a2ea907481",
    "validation-data/90.json": "661e2de6a7c16b086c69e2677effb9ec2eda68fc0d2a06485c528c2bd320ef36",
    "validation-data/91.json": "e61a6da711356ecd55fe6d6ea435cf522b75349e2c9f1c26db5a6fbb8ea2d0ab",
    "validation-data/92.json": "4fcebe85b743891d71ef7025707f4209f2cff18f6ea4e959fdc914bc39060720",
    "validation-data/93.json": "73f33484231cdc0bc0b16cb6c3deb33a440773c5b5c50d578533eeeadc604f22",
    "validation-data/94.json": "ef3eca4921a9d57f3716dc758b28d95c0ec149d2291b9ad4a8cdeac10644b7a6",
    "validation-data/95.json": "846c0bb0848770c3b914441b1593b4d71611bf4e2d31f92a95f107d7f9586845",
    "validation-data/96.json": "18a96bbf272dc885721f9593383bcca482d15781f5cec3d16a6c12eaf9c5db18",
    "validation-data/97.json": "99eef54574963b590a6a11cc10a53bdbf59feced1ecd47fd84359b928f72d948",
    "validation-data/98.json": "aa39851711c5befa8de68b6c351651e5f320e00313d025aebc5cb06d9f0ce859",
    "validation-data/99.json": "f7534c89ec9c402835eccba6e5d580fcd3fc9863de589a6a5afee8d1d885af1e",
    "validation-data/100.json": "faa3e2df8a61e6831049fd715e3aaf119c61bac97cf3a3cb35f8d3062e37a026",
    "validation-data/101.json": "32eef9eb88932f781b8e7a39089203832f6f15d638d8c62bc7cc85d6edf6380a",
    "validation-data/102.json": "072f9275d98690763edf336eee7157ffe7ff30fef03fe4bb262bb234382db542",
    "validation-data/103.json": "2f4c32d11ad47f6e5012e7d9ea6ef93884eaec5970e1fef99ef839ca6bfa5686",
    "validation-data/104.json": "173e0f1f86a880f16d792953fe739ceef8aa576bafc7ba9310f54f747ca0705e",
    "validation-data/105.json": "e897fb9aab154ca713755bc8e59ad9f7d063f6d9350194256df21b1a7ad594d0",
    "validation-data/106.json": "ca70f9acf87f5dceac1e6d3b06bc856697c4a0be259ab07d16820d339baf013f",
    "validation-data/107.json": "07fceec7552df3eaeeedae95f3d0526bc9c9d735705cac2223653b0c472fe534",
    "validation-data/108.json": "2bab5f197ba502770e7e7f2e53616dc4e32ecd9b99112c83546d31221549c34b",
    "validation-data/109.json": "02a558025c3ce139ff13963e70009a2ba8c0b68b7757ada1b0117051b6bc2d07",
    "validation-data/110.json": "e897fb9aab154ca713755bc8e59ad9f7d063f6d9350194256df21b1a7ad594d0",
    "validation-data/111.json": "54497cd7e73716926251a2faf3ef33030ac3ef7a101b668bad6508b86b2b112a",
    "validation-data/112.json": "5b78a3a4563edbbebb59e6ddd74e6bb18a7f9352090bc2d9d6a3f6ebdb6e741d",
    "validation-data/113.json": "c8795e1c0552bb7ed0830633eaebe3108a26761b49f32ca750fb86954c098de0",
    "validation-data/114.json": "b7fbc0c4072c2db5d2fe10e895f0cf7b1dbd594992576bc7119a6152b899f3cf",
    "validation-data/115.json": "968cc840a356d5c5d18b4a5e0be9360b6860e50b42031353525a0f515f8aecb0",
    "validation-data/116.json": "42371e3a0fcaa60229fdb1dff50c3548fa89a573a457b9beec393e7a50b14b04",
    "validation-data/118.json": "fe3ce58f319a99d9dbb11ad9e4f9034a1fc913977502b844c843c3053627df88",
    "validation-data/119.json": "59c9c5c73113d75c48d11f2523ecf70733e6bd4b49e35e12fcf14697a87ec4f0",
    "validation-data/120.json": "8d7ba162b39e8afb4b16f3a6890ab5a085d7bce10741f419106cdbbeac45a73a",
    "validation-data/121.json": "d416d19e69dcbc3ef7a068c06835d19075b12caef018bbdf654281f1598d8d8a",
    "validation-data/122.json": "ca70f9acf87f5dceac1e6d3b06bc856697c4a0be259ab07d16820d339baf013f",
    "validation-data/123.json": "bc4962270a2cd7867b242b6f8c3c4e220c1c6bd3da0863d6cfa0434a4df0aaa7",
    "validation-data/124.json": "6713da03a5844764be4a18008a7cc3568a2aa1851e00afabaf93e5cb03e16b37",
    "validation-data/125.json": "4f985ad448426ebc7b2ca54114e370a380881d7389cb606ecf89d6ac16f82bcc",
    "validation-data/126.json": "e4b3066e8bcf0d36d788133fa1b56e764c455abedcb0f31c1aee732eee45816a",
    "validation-data/127.json": "59909adc2af14b8b8d3e71b67b5871ba54226038eea3d86e0a1add62c5c961cb",
    "validation-data/128.json": "2885cfd47865c94202ae11b6b509cd69a3e56f8432464023699a06ac6b4be4ff",
    "validation-data/129.json": "1268f76e5e221886450c77e509f60c8872811056b404d1b28a04e255dc957032",
    "validation-data/130.json": "e422df438a3003623071cfd96105b7d66c35ca25cf08056566d9ea25140e3de7",
    "validation-data/131.json": "689174699f21c02536bbb31b245a610912c716dc31143cf2b70099e0d1464bba",
    "validation-data/132.json": "261df5e54618cc144ba9d5e818b09c2185b3f39e2a26a3c22a41587c825659c9",
    "validation-data/133.json": "763cdba928f895d9a1a168066e9c06b34be0c3b79d5d919bbc003b4cf69ba0e1",
    "validation-data/134.json": "9019d514094b20f392d3afe3a5fc4e4ea903352326785c81589d7cc0b6afeb41",
    "validation-data/135.json": "82ae74d17bdb4f90c9ae4845ca81a8bd6389d6fcfe1160a3b9fab2a3b27bdda8",
    "validation-data/136.json": "a338d74a8c4e34f77d44355c90e0ee70f483b288fd769e062ab7dde20f6357c9",
    "validation-data/137.json": "f8f1a8462f849ef5d022ba9b06e3f946e6793be5e91a3c2a19a012d0d3f4a550",
    "validation-data/138.json": "c3b132f025e235e5ef2206becfb61bf86c7b2356eaa9e3092b1585c58b7c4f9c",
    "validation-data/139.json": "354284772b070ca7f7e283b3b6f0707f4bb5e421c119af5fe0f9e7509f051bff",
    "validation-data/140.json": "4748c88803ad749071074ca6ab227cde6d3b4af18d2bbe60934e3e1357ca5906",
    "validation-data/141.json": "0dd1253b5ec3db26e59390d98c35a4a40332b5656b831465bd2e482d5a5fd97f",
    "validation-data/142.json": "16547c7d4d1d375596e23039e4704f08981c0787151876ea2e852db10c453b7a",
    "validation-data/143.json": "42977809dd8c5def3b1a2eede869dcd206a871c2d86f8973a882851287ce0a85",
    "validation-data/144.json": "740c14db057ba03f35e39fbc0aa011c335871a55888967d309449e3d65d9abd7",
    "validation-data/145.json": "2a6bfa1add3ce07dfc84501c351ce973005869dd99a4d41b0652dcb7824413a5",
    "validation-data/146.json": "8d3af68343651738cfaca1306222b651c432bdd40ab0d4d8da3f8cbccb2bbaf4",
    "validation-data/147.json": "e1b9153815c1f16f419ea1a9c0b137efe13e25e3a7e2356032ddb931dbdbff7e",
    "validation-data/148.json": "e375b88ef00890b7d4479cc3517120ce66e587c0dda5aaf3a09066b036997737",
    "validation-data/149.json": "5569077da4d19abdb38cb8bb964cbeb254c5ac89672306aa8b0646280f8b6ac1",
}

# The 145 human lines, in the order of their numbers.
LINE_NAMES = sorted((name for name in SHA256 if name.startswith("validation-data/")),
                    key=lambda name: int(Path(name).stem))


def url(name: str) -> str:
    """The public URL of one of the article's files."""
    return BASE_URL + REPOSITORY_PATHS.get(name, name)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch(name: str) -> Path:
    """A local path holding the article's file `name` (a key of SHA256), checked against its pin."""
    if name not in SHA256:
        raise DataError(f"{name}: not one of the original article's files: use one of "
                        f"b64_weights.json, metadata.json or validation-data/N.json")
    pin = SHA256[name]
    local = distill_dir() / name
    if local.is_file():
        digest = sha256(local)
        if digest == pin:
            return local
        problem = f"the local copy {local} has sha256 {digest[:12]}… instead of {pin[:12]}…"
    else:
        problem = f"there is no local copy in {distill_dir()}"
    if os.environ.get(OFFLINE_ENV):
        raise DataError(f"{name}: {problem}, and downloads are off ({OFFLINE_ENV} is set): put the "
                        f"article's files in HANDWRITING_DISTILL, or unset {OFFLINE_ENV} to fetch them")
    try:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        import tf_keras as keras

        return Path(keras.utils.get_file(fname=name.replace("/", "-"), origin=url(name),
                                         file_hash=pin, cache_subdir=CACHE_SUBDIR))
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DataError(f"{name}: {problem}, and fetching {url(name)} failed ({reason}): restore the "
                        f"file under HANDWRITING_DISTILL or allow the download") from None
