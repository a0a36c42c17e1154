import EngineIOParser

/// One second of real Opus (50 frames of 20 ms): a 440 Hz tone at -10 dBFS, stereo, 48 kHz,
/// encoded by libopus 1.3.1 (OPUS_APPLICATION_VOIP, 32 kbit/s, about 75 bytes a frame, the size
/// a phone's voice stream has). 440 Hz fits a whole number of cycles in a second, so the loop
/// is seamless. Stored as base64 of `length (UInt16 big-endian) ‖ frame` records, so the binary
/// needs no resource bundle. Regenerate with `scripts/opus-fixture.py`.
public enum OpusFixture {
    /// The frames, in order.
    public static let frames: [[UInt8]] = {
        guard let blob = Base64.decode(encoded.joined().utf8) else { preconditionFailure("OpusFixture: bad base64") }
        var frames: [[UInt8]] = []
        var index = 0
        while index + 2 <= blob.count {
            let length = Int(blob[index]) << 8 | Int(blob[index + 1])
            index += 2
            guard index + length <= blob.count else { preconditionFailure("OpusFixture: truncated frame") }
            frames.append(Array(blob[index..<(index + length)]))
            index += length
        }
        return frames
    }()

    /// RTP timestamp increment per frame (20 ms at 48 kHz).
    public static let samplesPerFrame: UInt32 = 960

    private static let encoded: [String] = [
        "AFF8h/zRu3nH0wD4AB7y+vl5Ul2EdIvYn/gbZr+YHzrqLhtBAtKdIGHi+AYT0xVo2UJnlkvtFDtdJONDRBJGkqeugAs/VSwRpvD2OUbaVj1jDk8ASHyIAB9i",
        "SkRtgdvY2rf5ASuEa7USWLjFLG8cPRW+Wlsmxi6d2S0ewyo1mWNfeanON1otHnCIUi3IOPOPWWlVRfKEskNWmi0MDwBNfIgCd1KNRoq9SCY/EBeL/XvL15d5",
        "S1yPOABHD6VWn1zBYWIQ4EDeu1HCMn47/6DufGOLrJFqHUONUUgP8c9/HOB1voqChUE1VKIMjAoATHyIAnZVeAqcwKVve7TQAIYeh7yXliB5jFCpbdUdOL19",
        "vCwT88TuwUzjK84gccVGe2jMuBEdhTxX7blamttZSqWojnJscwZ9pSvxsAoATXyIAnQaW7XbnFCJZnHuhEXYVnpXBCVkLFAh7Rve8X0DlknFaWRn8SNe1jJA",
        "2UCJQyFTOGmA9nUe/wOqhyref3kPiDdLZEeJy7XOEwCaAE98iAJ0GlvGir1IITyvBHw8EPY5n9HN4Y1MIt8L98KBJCqXtLUKoQe+T5nvrpdedi4GpAs0NMA4",
        "uFSwK80pRg3PTV4AcAvr8ZgKc2VqCjwKAEt8iAJ0Glu125w7JPmFQ6j/sPjgjtkSScj1Ab/IXZVxU3iQN1KLzA/F5Bz4th9tc3sGZ0zaXj0GCweWOx4pgtXu",
        "1HE4meBDVpotMJUAR3yIAnQaW7XbnFCSV06rQM1tXHC1jd9PdHIDadLAwvR6pKLJaZyiHKSeS6YqSbKzebPW+9fVCZkh/DmpXxaS9kbVY1SiDIwKAFF8iAJ0",
        "GlvGir06KSpXyKRGVN/ysFLB30mgq/wtxVdcVInPqoOkdObIj216AIcvcZHPdTw+RlPlD3vRotQYMPi4kAGqvKhCPUcv/sCNZSvxsAoAN0yIAnDiKjXbnFCJ",
        "Yxi5qCaxJbkK02NYOqNKWsqC17g3zS+25MVGCi9rdvJLvjTjZyqVYitgfxAAPEyIAnCUYpcZRIhPeKj2Y0P+Vzsn1HmAETzexG5sja/ydc+9/xbOoU3dvJBv",
        "tOsfRNfKWdLnnnmStPt/wAA9TIgCban4tducUiEwPzxBK2Ygkf1BciBnclaSo5idDLD5RmqQLZsXygEdNWZT+Wi1v7yp9G4jrC8fQwGFPAA9TIgCban4tduc",
        "YCY/fzoXyL7BJT/mQvRvq951IQgXIyBZH2BA5EmToqyjsp6pZPOSCLSRuW7yUoM/FvjbEAA8TIgCban4xoq9OilhWbRQVMTriTpMUj+8g5TXJ/ZBiehTp6Fc",
        "jV0yPoU5sKCVkZGzzewMdwn+Qdgm4gAdADZMiAJtqfi125xRiJz/QEu+ao3+rSeO0JmKsX+m/txeb2F4l+vawEnmV5F7DAujt3EdXaXXRWAAPEyIAm2p+MaK",
        "vUiQalQEycVhAiRoOeKlSolxZIhZgaNF0pCjBGSmarz5AsYf/2b7c3XABypUoNxachHFBQA8TIgCban4tducUikqyU2TOFDze1ziEu7nRHn86K2+5Qdbx2Za",
        "krxE3Gmy3cehVUjt+DBvmD3PbFYOGfc4AGVMiAJtqfi125xfbnV17qqy6BNbwhF2GofGAYDQF8sTtaHuPVRF6A3GY84s+covzwYta728KRGqGGBiF7sVLM6x",
        "1HZXXNbMUgnVXT5dx+0EE2G3pYqWO4UUFuqtfA6eiz7GD8Aw8AB7nKqv+KQpqTUPIoOGHEOf+8WUWUWUVigHttRUToiz9w/jXKuOdWVUByacPdyXFXX3mPBE",
        "5lXV95co9qjqwetmD354W0V0qUdbYzTh4708VzQFvS5riuLQNohTcMNEkV3DqGED5yUbSaKcfa1n5GO9FHvhgrMiVWZVWmeuAGecsB/VU+1bKLjKw6Zy9nq6",
        "5rpsdrZGZFDMrE1XEKEcPLJDmV+BpIxBuUYOvwuWOMIbRO3RpNs+R9RTWENg0D+hpS9V+AdMoi5deWCs0dkpBss6JUi4rrfNsM20WkGPfh5a2zAVX92uAGGc",
        "rK0okb2AI6bawwmnGZWkB5V9590A3+MPwSxCG/OQcLsQhfnYvQsCu2o0ehR5Bsr53/uFEJQbsCTse+8gWnAkzTVz1nf0uaa7GJZbyH+wUWOXRM/k1xmgox/h",
        "TdqSSTeuAFGcrJ18RVhiHk0aam8pPqt4fuEfEcWm4fdf2Q1fpzrOXtdANYvcLmpZb1HHKW5g3dKYZCKiioGKfBULxS7jP8Avl9WgNh61W47+IeZ/7NqSba4A",
        "UZysnXxFWC9VxycLNMmbda2bdFDE/rJLY6o5Ipd30dgBDMMs7kFD4o7PbNnRTxWOlxcLm4u97SnE+7PJ7fhejjblgPFuk1ZcgyojmZVu3kqTrgBRnKyde2zh",
        "zcEJMCkh0XOLYZjZj1jPQDJW6o1EddZIneQtOCspZLupAAWikXeBmRhxxKJqeHBVZBN5QylND0y92KiY2G+VnZord+v56tkqB/+uAFGcrFqssWQCQwRxw9P+",
        "NHfDEz5hZeqCwWzgVmqx+2FlqhcbSdBUzm0hf6JAWWga4h7wYocgDYlN0Zgl8Dk51GAzirGHtyDHnr993YGYfgAAN64AUZysrSiRvYAjptq8ro9lm7hvmigi",
        "codN+6uZGr7Nh09pX+/IBi1VXnosiOHkjmZ4uLs7q5gDouxDtC3M5+kEur5/+3jEeCCZ8kLb/5TdoJLJrgBRnKydfEVYYjpD7YU9qSCozLXCM+M8S+40ahxl",
        "BIryRuISYuVik2mVGvMayXl+SSm7NVcSPelggX316cUu4z/AL5bjdKODtVuO/iHmZ+zakm2uAFGcrJ17bOHKAh2cSrJrQhznQhwHQGtIaDxbfz2eyiRRAiKi",
        "Vvl0nf7M9mY4BpkVHXZ8BxuLve0pxPuzye34Xo425YDxbpNWXIMqI5mVsABKk64AUZysnXts4c3BCTApIdFzi2GY2Y9Yz0AyVuqNRHXWSJ3kLTgrKWS7qQAF",
        "opF3gZkYccSianhwVWQTeUMpTQ9MvdiomNhvlZ2aK3fr+erZKgf/rgBRnKxarLFkAkMEccPT/jR3wxM+YWXqgsFs4FZqsfthZaoXG0nQVM5tIX+iQFloGuIe",
        "8GKHIA2JTdGYJfA5OdRgM4qxh7cgx56/fd2BmH4AADeuAFGcrK0okb2AI6bavK6PZZu4b5ooInKHTfurmRq+zYdPaV/vyAYtVV56LIjh5I5meLi7O6uYA6Ls",
        "Q7QtzOfpBLq+f/t4xHggmfJC2/+U3aCSya4AUZysnXxFWGI6Q+2FPakgqMy1wjPjPEvuNGocZQSK8kbiEmLlYpNplRrzGsl5fkkpuzVXEj3pYIF99enFLuM/",
        "wC+W43Sjg7Vbjv4h5mfs2pJtrgBRnKyde2zhygIdnEqya0Ic50IcB0BrSGg8W389nsokUQIiolb5dJ3+zPZmOAaZFR12fAcbi73tKcT7s8nt+F6ONuWA8W6T",
        "VlyDKiOZlbAASpOuAFGcrJ17bOHNwQkwKSHRc4thmNmPWM9AMlbqjUR11kid5C04Kylku6kABaKRd4GZGHHEomp4cFVkE3lDKU0PTL3YqJjYb5Wdmit36/nq",
        "2SoH/64AUZysWqyxZAJDBHHD0/40d8MTPmFl6oLBbOBWarH7YWWqFxtJ0FTObSF/okBZaBriHvBihyANiU3RmCXwOTnUYDOKsYe3IMeev33dgZh+AAA3rgBR",
        "nKytKJG9gCOm2ryuj2WbuG+aKCJyh037q5kavs2HT2lf78gGLVVeeiyI4eSOZni4uzurmAOi7EO0Lczn6QS6vn/7eMR4IJnyQtv/lN2gksmuAFGcrJ18RVhi",
        "OkPthT2pIKjMtcIz4zxL7jRqHGUEivJG4hJi5WKTaZUa8xrJeX5JKbs1VxI96WCBffXpxS7jP8AvluN0o4O1W47+IeZn7NqSba4AUZysnXts4coCHZxKsmtC",
        "HOdCHAdAa0hoPFt/PZ7KJFECIqJW+XSd/sz2ZjgGmRUddnwHG4u97SnE+7PJ7fhejjblgPFuk1ZcgyojmZWwAEqTrgBRnKyde2zhzcEJMCkh0XOLYZjZj1jP",
        "QDJW6o1EddZIneQtOCspZLupAAWikXeBmRhxxKJqeHBVZBN5QylND0y92KiY2G+VnZord+v56tkqB/+uAFGcrFqssWQCQwRxw9P+NHfDEz5hZeqCwWzgVmqx",
        "+2FlqhcbSdBUzm0hf6JAWWga4h7wYocgDYlN0Zgl8Dk51GAzirGHtyDHnr993YGYfgAAN64AUZysrSiRvYAjptq8ro9lm7hvmigicodN+SZli79fP2KumQOC",
        "K1tprG0D144KgYRSI7j09+QHRCqHaGSDRtIJdXz/9vGI8EE1XATP55TdoJLJrgBRnKydfEVYYjpD7YU9qSCozLXCM+M8S+40ahxlfbR1YOISYuVik2mVGvMa",
        "yXl+SSnRyY8SPelggX316E0u4z/AL6bjdKOCtVsO/iXmZ+zakm2uAFGcrJ17bOHKAh2cSrJrQhznQhwHQGtIaDxbfz2eyiZtsC6iVvl0ngyk5NftKoe3MEJj",
        "MncXe9pp05uzye34Xo421bFNzpNWXIMqI5mVsABKk64AUZysnXts4c3BCTApIdFzi2GY2Y9Yz0AyVF7Chf520YrvWM53rRQSATtNUj8k9bLhbKAPq03gquGD",
        "eUMpTQ9MvdiomNvdlZ2aK3fr+erZKgf/rgBRnKxarLFkAkMEccPT/jR3wxM+YWXqgsFrKn2Azx7mMkIRhNWblRBRCEsWQ8f9rQsCL9nlJ+mpTdGYJfA5OdRe",
        "U4qxh7cgx56/fd6BmH4AADeuAFGcrK0okb2AI6bavK6PZZu4b5ooInKHTfsvqxQVwx/g0Dm2hru6GeqCtFu50dKfgBH6umYOA6LsQ7QtzOfpBLq+f/t4xHgg",
        "mfJC2/+U3aCSya4AUZysnXxFWGI6Q+2FPakgqMy1wjPjPEvuNFWAWrCHuemzd4RyJnDWCk9f4kW2YRirEZLqac0TAAL769OKXcZ/gF9NxulHBWq2Hfyl5mfs",
        "2pJtrgBRnKyde2zhygIdnEqya0Ic50IcB0BrSGg8EysRnsombbAuolb5dJ4MpOTX7SqHtzBCYzJ3F3vaadObs8nt+F6ONtWxTc6TVlyDKiOZlbAASpOuAFGc",
        "rJ17bOHNwQkwKSHRc4thmNmPWM9AMlbqjUR11jPhhe6YcvheR/ooymYKV9IF+OIVLv4icFVkE3lDKU0PTL3YqJjYb5Wdmit36/nq2SoH/64AUZysWqyxZAJD",
        "BHHD0/40d8MTPmFl6oLBbOBWarH7YYZ2wdMVbrk/ltJbTBmSQ5CLcJaVdVq9iU3RmCXlDznUXlOKsYe3IMeev33dgZh+AAA3rg==",
    ]
}
